// Bench-only baseline ("ceiling"): the cheapest possible Worker on the same runtime. Never part of the
// product bundle; it is the 1.0x every product figure is divided by.
export default {
  fetch() {
    return new Response('{"ok":true}', { headers: { 'Content-Type': 'application/json' } });
  },
};
