// Live status for JIT requests without reloading: polls the request's own API resource (the same the CLI follows)
// every second until each of its ports has ended, and keeps the "time left" countdowns current.
(() => {
  "use strict";
  const ended = new Set(["Expired", "Revoked", "Denied", "Cancelled"]);

  const left = (end) => {
    const ms = Date.parse(end) - Date.now();
    if (ms <= 0) return "ended";
    const s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
  };

  const tick = () => document.querySelectorAll("[data-end]").forEach((el) => { el.textContent = left(el.dataset.end); });

  const follow = async (el) => {
    for (;;) {
      try {
        const response = await fetch(el.dataset.follow, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (response.ok) {
          const request = await response.json();
          const ports = (request.virtualMachines || []).flatMap((vm) => vm.ports || []);
          const states = ports.map((p) => (Date.parse(p.endTimeUtc) <= Date.now() && !ended.has(p.state) ? "Expired" : p.state));
          const state = states.includes("Active") ? "Active" : states.includes("Approved") ? "Approved" : states[0] || "Unknown";
          const badge = el.querySelector("[data-state]");
          if (badge && badge.dataset.state !== state) {
            badge.dataset.state = state;
            badge.className = `badge ${state}`;
            badge.textContent = state === "Approved" ? "Opening…" : state;
          }
          el.querySelectorAll("[data-when-active]").forEach((part) => { part.hidden = state !== "Active"; });
          el.querySelectorAll("[data-when-live]").forEach((part) => { part.hidden = ended.has(state); });
          if (ended.has(state)) return;
        }
      } catch {
        // The server may be restarting; the grant closes by itself on the host regardless. Keep trying.
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };

  tick();
  setInterval(tick, 1000);
  document.querySelectorAll("[data-follow]").forEach(follow);
})();
