import { SEED, type SeedAccount } from './seed';

/**
 * One valid partner request per catalog operation, against the simulator's seed data of one
 * account: the account's own devices, alerts, dashboards, users and items. The integration
 * suites, the fuzz property and the load script start from these.
 */
export function sampleRequests(account: SeedAccount): Record<string, Record<string, unknown>> {
  const device = account.deviceIds[0];
  return {
    'account/close': { id: account.id },
    'account/find': {},
    'account/get': { id: account.id },
    'account/updateIdentity': { id: account.id, name: 'Renamed' },
    'action/find': { cloudId: SEED.cloudId },
    'action/get': { cloudId: SEED.cloudId, type: 'email', id: SEED.actionId },
    'action/invoke': { name: SEED.deviceActionName, context: { deviceId: device } },
    'alert/find': { accountId: account.id },
    'alert/get': { id: account.alertIds[0] },
    'alert/remove': { id: account.alertIds[0] },
    'alert/update': { id: account.alertIds[0], resolved: true },
    'dashboard/create': { name: 'Ops', layout: 'grid' },
    'dashboard/find': {},
    'dashboard/get': { id: account.dashboardIds[0] },
    'dashboard/remove': { id: account.dashboardIds[0] },
    'dashboard/update': { id: account.dashboardIds[0], refresh: 30 },
    'device/claim': { id: SEED.unclaimedId, accountId: account.id },
    'device/find': { accountId: account.id, limit: 5 },
    'device/get': { id: device, accountId: account.id },
    'device/getCreds': {},
    'device/getSignedUrl': { id: device, command: 'get', filename: 'log.txt' },
    'device/provision': { id: device },
    'device/release': { id: device },
    'generic/create': { _type: 'Event', deviceId: device, name: 'custom' },
    'generic/find': { _type: 'Store', deviceId: device },
    'generic/get': { _type: 'Event', id: account.eventIds[0] },
    'generic/remove': { _type: 'Event', id: account.eventIds[0] },
    'generic/update': { _type: 'Event', id: account.eventIds[0], name: 'renamed' },
    'metric/fetch': {
      deviceId: device,
      items: [{ namespace: SEED.metricNamespace, metric: SEED.metricName, statistic: 'avg' }],
    },
    'metric/getDeviceSchema': { cloudId: SEED.cloudId },
    'metric/getMetricList': { cloudId: SEED.cloudId, namespace: SEED.metricNamespace },
    'provision/getCerts': { id: device },
    'provision/update': { id: device, product: SEED.products[0].id, version: '1.0.0' },
    'provision/updateReport': { id: device, update: SEED.updateId, success: true },
    'store/get': { deviceId: device, key: SEED.storeKey },
    'store/set': { deviceId: device, key: 'mode', value: 'eco' },
    'user/create': { email: 'new@partner.example', role: 'user' },
    'user/find': {},
    'user/get': { id: account.userIds[0] },
    'user/getRoles': {},
    'user/remove': { id: account.userIds[0] },
    'user/update': { id: account.userIds[0], first: 'Olive' },
    'user/updateRole': { id: account.userIds[0], role: 'admin' },
  };
}
