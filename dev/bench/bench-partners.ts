/** `count` partners for the benchmarks: read grants, one account each, three throttle tiers. */
export const benchPartners = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: `partner-${String(i).padStart(3, '0')}`,
    operations: ['device/find', 'device/get', 'metric/fetch'],
    accounts: [`01JHB4Z6QKAC${String(i).padStart(14, '0')}`],
    throttle: { rateLimit: [10, 20, 50][i % 3] ?? 10, burstLimit: 100 },
  }));
