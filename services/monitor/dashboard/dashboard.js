// The monitor's dashboard: plain JavaScript and SVG, no library and no network beyond the monitor
// itself. Polls the JSON API every two seconds and redraws.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const POLL_MS = 2000;

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(tag === "svg" || attrs.svg ? SVG : "http://www.w3.org/1999/xhtml", tag);
  for (const [k, v] of Object.entries(attrs)) if (k !== "svg") node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function s(tag, attrs, text) { return el(tag, { ...attrs, svg: true }, text); }
function num(v) { return Number(v || 0); }
function plural(v, one, many = one + "s") { const n = num(v); return `${n} ${n === 1 ? one : many}`; }
function rate(v) { const r = num(v); return r >= 10 ? r.toFixed(0) : r.toFixed(2); }
function secs(v) {
  const t = num(v);
  if (t < 1) return (t * 1000).toFixed(0) + " ms";
  if (t < 120) return t.toFixed(1) + " s";
  if (t < 7200) return (t / 60).toFixed(1) + " min";
  if (t < 172800) return (t / 3600).toFixed(1) + " h";
  return (t / 86400).toFixed(1) + " d";
}
function label(text) { return String(text || "").replace(/^NEED_CATEGORY_/, "").replace(/_/g, " ").toLowerCase(); }

function topicRates(flows) {
  const out = {};
  for (const t of flows.topics || []) out[t.topic] = t;
  return out;
}
function lagOf(flows, group, topic) {
  for (const g of flows.groups || []) if (g.group === group && g.topic === topic) return g;
  return {};
}
// A consumer that gathers its fetches (up to half a second) always shows a few hundred messages of
// lag at a busy rate: an edge is lagging when its oldest message has waited this long.
const LAGGING_SECONDS = 5;

// GP systems -> intake -> matching -> follow-up -> link workers, with side exits.
function drawPipeline(flows) {
  const svg = document.getElementById("pipeline");
  svg.replaceChildren();
  const defs = s("defs");
  const marker = s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto" });
  marker.append(s("path", { d: "M0,0 L10,5 L0,10 z", fill: "#2f6fb3" }));
  defs.append(marker);
  svg.append(defs);
  const W = 130;  // node width; gaps of 70 between nodes hold the edge labels
  const nodes = {
    gp: [10, 60, "GP systems"], intake: [210, 60, "intake"], matching: [410, 60, "matching"],
    followup: [610, 60, "follow-up"], workers: [810, 60, "link workers"],
    rejected: [210, 190, "rejected"], unmet: [410, 190, "unmet needs"],
  };
  const rates = topicRates(flows);
  const edges = [
    ["gp", "intake", "signpost.referral.submitted", "signpost-intake-submissions"],
    ["intake", "matching", "signpost.referral.received", "signpost-matching"],
    ["matching", "followup", "signpost.referral.matched", "signpost-followup"],
    // Link workers' apps take tasks from follow-up's task feeds, not from a topic: no lag here.
    ["followup", "workers", "signpost.followup.events", ""],
    ["intake", "rejected", "signpost.referral.rejected", "signpost-followup-withdrawals"],
    ["matching", "unmet", "signpost.need.unmet", ""],
  ];
  for (const [from, to, topic, group] of edges) {
    const [x1, y1] = nodes[from], [x2, y2] = nodes[to];
    const vertical = y1 !== y2;
    const a = vertical ? [x1 + W / 2, y1 + 50] : [x1 + W, y1 + 25];
    const b = vertical ? [x2 + W / 2, y2] : [x2, y2 + 25];
    const consumer = group ? lagOf(flows, group, topic) : {};
    const lag = num(consumer.totalLag);
    const lagging = lag > 0 && num(consumer.oldestWaitingSeconds) > LAGGING_SECONDS;
    const g = s("g", { class: "edge" + (lagging ? " lagging" : ""), "data-topic": topic });
    g.append(s("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }));
    const r = rates[topic] || {};
    const tx = vertical ? a[0] + 50 : (a[0] + b[0]) / 2, ty = vertical ? (a[1] + b[1]) / 2 - 10 : a[1] - 8;
    g.append(s("text", { x: tx, y: ty, class: "rate" }, rate(r.messagesPerSecond) + "/s"));
    g.append(s("text", { x: tx, y: ty + (vertical ? 15 : 24), class: "total" }, num(r.messagesTotal) + " total"));
    if (group) g.append(s("text", { x: tx, y: ty + (vertical ? 30 : 38), class: "lag" }, "lag " + lag));
    svg.append(g);
  }
  for (const [id, [x, y, name]] of Object.entries(nodes)) {
    const g = s("g", { class: "node", "data-node": id });
    g.append(s("rect", { x, y, width: W, height: 50 }));
    g.append(s("text", { x: x + W / 2, y: y + 25 }, name));
    svg.append(g);
  }
}

function drawAlerts(flows) {
  const box = document.getElementById("alerts");
  box.replaceChildren();
  const dead = (flows.deadLetters || []).reduce((n, d) => n + num(d.count), 0);
  const breaches = num(flows.slaBreaches), risk = num(flows.slaAtRisk);
  const unrouted = num(flows.unroutedWaiting);
  if (dead === 0 && breaches === 0 && risk === 0 && unrouted === 0) {
    box.append(el("div", { class: "ok" }, "No dead letters, no SLA breaches, no unrouted referrals."));
  }
  // Referrals from practices no network lists wait on team:unrouted until a coordinator routes them.
  if (unrouted > 0) {
    box.append(el("div", { class: "alert", "data-alert": "unrouted" },
      `${plural(unrouted, "referral")} from practices no network lists waiting on the unrouted queue ` +
      `(team:unrouted; ${num(flows.unroutedReferrals)} in all): a coordinator must route ` +
      `${unrouted === 1 ? "it" : "them"} to a link worker (signpostctl token --role coordinator --network unrouted).`));
  }
  if (dead > 0) {
    const latest = (flows.latestDeadLetters || [])[0] || {};
    box.append(el("div", { class: "alert", "data-alert": "dead-letters" },
      `${dead} dead letter${dead === 1 ? "" : "s"}; latest from ${latest.sourceTopic} (${latest.group}): ${latest.reason}`));
  }
  if (breaches > 0 || risk > 0) {
    box.append(el("div", { class: "alert", "data-alert": "sla" },
      `First-contact deadlines: ${breaches} breached, ${risk} at risk.`));
  }
  box.append(el("div", { class: "note", "data-note": "people" },
    `${plural(flows.repeatReferrals, "referral")} of people already referred; ` +
    `${plural(flows.personalDataDeliveries, "delivery", "deliveries")} of personal details to link workers (audited).`));
}

function fillTable(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren();
  for (const cells of rows) {
    const tr = el("tr");
    for (const c of cells) tr.append(el("td", typeof c === "number" ? { class: "num" } : {}, String(c)));
    body.append(tr);
  }
}

function drawFunnel(equity) {
  const svg = document.getElementById("funnel");
  svg.replaceChildren();
  const all = (equity.cells || []).find(c => c.dimension === "all") || {};
  const stages = [["referred", all.referred], ["assigned", all.assigned], ["contacted", all.contacted],
                  ["connected", all.connected], ["closed", all.closed], ["improved", all.improved]];
  const top = Math.max(1, num(all.referred));
  stages.forEach(([name, count], i) => {
    const w = 760 * num(count) / top, y = 10 + i * 34;
    const g = s("g", { "data-stage": name });
    g.append(s("text", { x: 10, y: y + 18, class: "bar-label" }, name));
    g.append(s("rect", { x: 110, y, width: Math.max(w, 1), height: 26, class: "bar" }));
    g.append(s("text", { x: 120 + w, y: y + 18, class: "bar-label count" }, String(num(count))));
    svg.append(g);
  });
  const share = (100 * num(equity.core20ShareOfReferrals)).toFixed(0);
  const population = (100 * num(equity.core20ShareOfPopulation)).toFixed(0);
  document.getElementById("core20").textContent =
    `Core20 (most deprived fifth): ${share}% of referrals, ${population}% of the population served. ` +
    `Groups under ${equity.suppressBelow} referrals are withheld.`;
  fillTable("equity", (equity.cells || []).filter(c => c.dimension !== "all").map(c => c.suppressed
    ? [label(c.dimension), c.group, "withheld", "", "", "", "", "", ""]
    : [label(c.dimension), c.group, num(c.referred), num(c.assigned), num(c.contacted), num(c.connected),
       num(c.closed), num(c.improved), num(c.medianDaysToFirstContact).toFixed(1)]));
}

// Provision against need: per quintile, resource places and caseload room per referral as bars
// (absent where referrals are withheld or none), and the figures behind them in tables.
function provisionCells(r) {
  const fixed = (v, d) => (v === undefined ? "" : num(v).toFixed(d));
  return [r.area, r.suppressed ? "withheld" : num(r.referrals), num(r.caseloadRoom).toFixed(1),
          num(r.linkWorkers), num(r.resources), `${num(r.resourcePlaces)} (${num(r.resourcePlacesAvailable)})`,
          num(r.unmetNeeds), fixed(r.medianDaysToFirstContact, 1), fixed(r.resourcePlacesPerReferral, 2),
          fixed(r.caseloadRoomPerReferral, 2)];
}

function drawProvision(provision) {
  const svg = document.getElementById("provision");
  svg.replaceChildren();
  const rows = provision.quintiles || [];
  // Each measure against its own largest quintile: the shape across quintiles is what tells.
  const measures = [["resourcePlacesPerReferral", "bar", "places"], ["caseloadRoomPerReferral", "bar-room", "room"]];
  const drawn = rows.filter(r => r.area !== "unknown");
  const tops = measures.map(([field]) => Math.max(1e-9, ...drawn.map(r => num(r[field]))));
  drawn.forEach((r, i) => {
    const y = 10 + i * 40;
    const g = s("g", { "data-quintile": r.area });
    g.append(s("text", { x: 10, y: y + 20, class: "bar-label" }, r.area));
    measures.forEach(([field, cls, name], j) => {
      const v = r[field], w = 560 * num(v) / tops[j], by = y + j * 17;
      g.append(s("rect", { x: 160, y: by, width: Math.max(w, 1), height: 15, class: cls }));
      g.append(s("text", { x: 168 + w, y: by + 12, class: "bar-label" },
        v === undefined ? (r.suppressed ? `${name}: withheld` : `${name}: no referrals`)
                        : `${name} ${num(v).toFixed(2)} per referral`));
    });
    svg.append(g);
  });
  fillTable("provision-quintiles", rows.map(provisionCells));
  fillTable("provision-districts", (provision.districts || []).map(provisionCells));
}

// The funnel and the gaps week by week (the last 26 weeks the look-back holds): a change in who
// is reached shows as a trend.
function drawWeeks(equity, gaps) {
  const byWeek = new Map();
  const week = (start) => {
    if (!byWeek.has(start)) byWeek.set(start, { start, all: null, core20: null, unmet: 0 });
    return byWeek.get(start);
  };
  for (const w of equity.weeks || []) {
    const row = week(w.weekStart);
    row.all = (w.cells || []).find(c => c.dimension === "all") || { suppressed: true };
    row.core20 = row.all.suppressed || w.core20ShareOfReferrals === undefined ? null : num(w.core20ShareOfReferrals);
  }
  for (const w of gaps.weeks || []) week(w.weekStart).unmet = num(w.unmet);
  const rows = [...byWeek.values()].sort((a, b) => a.start < b.start ? -1 : 1).slice(-26);

  const svg = document.getElementById("weeks");
  svg.replaceChildren();
  const top = Math.max(1, ...rows.map(r => Math.max(num(r.all?.referred), r.unmet)));
  const slot = Math.min(880 / Math.max(rows.length, 1), 80);  // a lone week is not one wide slab
  const shareY = (v) => 200 - 180 * v;
  const population = num(equity.core20ShareOfPopulation);
  svg.append(s("line", { x1: 60, x2: 940, y1: shareY(population), y2: shareY(population), class: "core20-population" }));
  svg.append(s("text", { x: 945, y: shareY(population) + 4, class: "bar-label" }, `${(100 * population).toFixed(0)}%`));
  const points = [];
  rows.forEach((r, i) => {
    const x = 60 + i * slot;
    const g = s("g", { "data-week": r.start });
    const referred = 180 * num(r.all?.referred) / top, unmet = 180 * r.unmet / top;
    g.append(s("rect", { x: x + 2, y: 200 - referred, width: Math.max(slot * 0.45, 1), height: referred, class: "bar" }));
    g.append(s("rect", { x: x + 2 + slot * 0.45, y: 200 - unmet, width: Math.max(slot * 0.3, 1), height: unmet, class: "bar-unmet" }));
    g.append(s("text", { x: x + 2, y: 218, class: "bar-label" }, String(r.start || "").slice(5)));
    if (r.core20 !== null) {
      points.push(`${x + slot / 2},${shareY(r.core20)}`);
      g.append(s("circle", { cx: x + slot / 2, cy: shareY(r.core20), r: 4, class: "core20-point" }));
    }
    svg.append(g);
  });
  if (points.length > 1) svg.append(s("polyline", { points: points.join(" "), class: "core20-line" }));
  // A week only the gap report has (its referrals no longer followed) shows no funnel figures.
  fillTable("weekly", rows.slice().reverse().map(r => !r.all ? [r.start, "—", "", "", "", r.unmet] : r.all.suppressed
    ? [r.start, "withheld", "", "", "", r.unmet]
    : [r.start, num(r.all.referred), r.core20 === null ? "" : `${(100 * r.core20).toFixed(0)}%`, num(r.all.contacted),
       num(r.all.medianDaysToFirstContact).toFixed(1), r.unmet]));
}

// The ops token the dashboard was opened with (tools/run prints the URL with "#token=..."): kept
// for this tab only, and taken out of the address bar.
const TOKEN = (() => {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    sessionStorage.setItem("signpost-token", m[1]);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem("signpost-token");
})();

async function api(path) {
  const r = await fetch(path, TOKEN ? {headers: {Authorization: "Bearer " + TOKEN}} : {});
  if (r.status === 401 || r.status === 403) {
    throw new Error(`${await r.text()} (open the dashboard with an ops token: ` +
                    "the address tools/run prints, or #token=$(signpostctl token --role ops))");
  }
  return r.json();
}

async function refresh() {
  try {
    const [flows, equity, gaps, provision] =
      await Promise.all(["api/flows", "api/equity", "api/gaps", "api/provision"].map(api));
    drawAlerts(flows);
    drawPipeline(flows);
    fillTable("stages", (flows.stages || []).map(st =>
      [st.fromStage, st.toStage, num(st.count), secs(st.p50Seconds), secs(st.p90Seconds), secs(st.p99Seconds)]));
    fillTable("lag", (flows.groups || []).map(g =>
      [g.group, g.topic, num(g.totalLag), num(g.totalLag) > 0 ? secs(g.oldestWaitingSeconds) : ""]));
    drawFunnel(equity);
    drawProvision(provision);
    drawWeeks(equity, gaps);
    fillTable("gaps", (gaps.rows || []).map(r =>
      [r.postcodeDistrict, label(r.category), num(r.unmet), (r.reasons || []).map(x => `${x.reason} (${x.count})`).join("; ")]));
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    document.body.dataset.ready = "true";
  } catch (e) {
    document.getElementById("updated").textContent = "monitor unreachable: " + e;
  }
}

refresh();
setInterval(refresh, POLL_MS);
