// Shared by the in-extension-host suites: the extension's id and a named check that
// prints `ok -` or `not ok -` lines, which the e2e tests read from the page console.
const EXTENSION_ID = 'sentiment-distiller.sentiment-distiller';

/** Runs `body`, prints its result with the time it took, and rethrows a failure so the suite stops. */
async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    console.log(`not ok - ${name}: ${error.stack}`);
    throw error;
  }
}

module.exports = { EXTENSION_ID, check };
