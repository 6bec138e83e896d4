// middy 7 is ESM-only and exports only the `import` condition; let jest resolve it
// (see docs/development.md, "Jest and ESM-only middy").
module.exports = (request, options) =>
  options.defaultResolver(
    request,
    request.startsWith('@middy/')
      ? { ...options, conditions: ['import', 'node', 'default'] }
      : options,
  );
