// Console benchmark: how fast a 100-state graph is drawn and a 5,000-event history is shown, in
// headless Chromium against a real server. Prints its figures; asserts nothing about time.
//
//   cargo build --release --bin stepwasm
//   cd tests/e2e && npm ci && STEPWASM_BIN=../../target/release/stepwasm node bench.mjs

import { aws, signIn, startBrowser, startServer } from "./harness.mjs";

const ROLE = "arn:aws:iam::123456789012:role/stepwasm";

/** 100 states: a chain, a Choice, a Parallel of four 10-state branches and a 10-state Map. */
function hundredStateDefinition() {
  const states = {};
  const chain = (prefix, count, last) => {
    const inner = {};
    for (let i = 0; i < count; i++) {
      inner[`${prefix}${i}`] = i + 1 < count ? { Type: "Pass", Next: `${prefix}${i + 1}` } : { Type: "Pass", ...last };
    }
    return inner;
  };
  Object.assign(states, chain("Step", 35, { Next: "Route" }));
  states.Route = {
    Type: "Choice",
    Choices: [{ Variable: "$.skip", IsPresent: true, Next: "Done" }],
    Default: "FanOut",
  };
  states.FanOut = {
    Type: "Parallel",
    Branches: [0, 1, 2, 3].map((b) => ({ StartAt: `B${b}S0`, States: chain(`B${b}S`, 10, { End: true }) })),
    ResultPath: null,
    Next: "Each",
  };
  states.Each = {
    Type: "Map",
    ItemsPath: "$.items",
    ItemProcessor: { StartAt: "ItemS0", States: chain("ItemS", 10, { End: true }) },
    ResultPath: null,
    Next: "Tail0",
  };
  Object.assign(states, chain("Tail", 11, { Next: "Done" }));
  states.Done = { Type: "Succeed" };
  return { StartAt: "Step0", States: states };
}

/** A Map over 1,250 items with one Pass state: four history events an item, 5,000 in all. */
const bigHistoryDefinition = {
  StartAt: "EachItem",
  States: {
    EachItem: {
      Type: "Map",
      ItemsPath: "$.items",
      MaxConcurrency: 50,
      ItemProcessor: { StartAt: "Touch", States: { Touch: { Type: "Pass", End: true } } },
      ResultPath: null,
      End: true,
    },
  },
};

async function waitForEnd(endpoint, executionArn) {
  for (;;) {
    const described = await aws(endpoint, "DescribeExecution", { executionArn });
    if (described.status !== "RUNNING") return described;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function measure(browser, url, ready) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await signIn(page, server);
  await page.addInitScript(() => {
    window.__longestTask = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longestTask = Math.max(window.__longestTask, entry.duration);
    }).observe({ type: "longtask", buffered: true });
  });
  const started = performance.now();
  await page.goto(url);
  await ready(page);
  const elapsed = performance.now() - started;
  const longestTask = await page.evaluate(() => window.__longestTask);
  return { page, elapsed, longestTask };
}

const server = await startServer();
const { browser, stop } = await startBrowser();
try {
  const endpoint = server.endpoint;
  const hundred = await aws(endpoint, "CreateStateMachine", {
    name: "hundred-states",
    definition: JSON.stringify(hundredStateDefinition()),
    roleArn: ROLE,
  });
  const graph = await fetch(`${endpoint}/console/api/state-machines/${hundred.stateMachineArn}/graph`).then((r) => r.json());
  const stateCount = graph.graph.states.length;
  const hundredRun = await aws(endpoint, "StartExecution", {
    stateMachineArn: hundred.stateMachineArn,
    input: JSON.stringify({ items: [1, 2, 3] }),
  });
  await waitForEnd(endpoint, hundredRun.executionArn);

  const big = await aws(endpoint, "CreateStateMachine", {
    name: "five-thousand-events",
    definition: JSON.stringify(bigHistoryDefinition),
    roleArn: ROLE,
  });
  const bigRun = await aws(endpoint, "StartExecution", {
    stateMachineArn: big.stateMachineArn,
    input: JSON.stringify({ items: Array.from({ length: 1250 }, (_, i) => i) }),
  });
  await waitForEnd(endpoint, bigRun.executionArn);
  let eventCount = 0;
  for (let token; ; ) {
    const page = await aws(endpoint, "GetExecutionHistory", { executionArn: bigRun.executionArn, maxResults: 1000, nextToken: token });
    eventCount += page.events.length;
    if (!(token = page.nextToken)) break;
  }

  // The server's side of a live refresh: folding the whole history into per-state progress.
  const progressTimes = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await fetch(`${endpoint}/console/api/executions/${encodeURIComponent(bigRun.executionArn)}/progress?details=`).then((r) => r.json());
    progressTimes.push(performance.now() - started);
  }
  progressTimes.sort((a, b) => a - b);

  const results = [];
  const graphPage = await measure(browser, `${endpoint}/console/#/state-machines/${encodeURIComponent(hundred.stateMachineArn)}`, (page) =>
    page.waitForFunction((n) => document.querySelectorAll('svg[data-testid="graph"] [data-state]').length >= n, stateCount, { timeout: 60_000 }),
  );
  results.push([`state machine page, ${stateCount}-state graph drawn`, graphPage]);
  await graphPage.page.close();

  const runPage = await measure(browser, `${endpoint}/console/#/executions/${encodeURIComponent(hundredRun.executionArn)}`, (page) =>
    page.waitForFunction(
      (n) => document.querySelectorAll('svg[data-testid="graph"] [data-status="succeeded"]').length >= n - 1,
      stateCount,
      { timeout: 60_000 },
    ),
  );
  results.push([`execution page, ${stateCount} states coloured`, runPage]);
  await runPage.page.close();

  const eventsPage = await measure(browser, `${endpoint}/console/#/executions/${encodeURIComponent(bigRun.executionArn)}`, async (page) => {
    await page.locator('[data-testid="execution-status"][data-status="SUCCEEDED"]').waitFor({ timeout: 60_000 });
    await page.getByRole("tab", { name: "Event view" }).click();
    await page.waitForFunction(
      (n) => {
        const table = document.querySelector('table[data-testid="events"]');
        return table && Number(table.dataset.eventCount ?? table.querySelectorAll("tbody tr[data-event-id]").length) >= n;
      },
      eventCount,
      { timeout: 60_000 },
    );
  });
  results.push([`execution page, ${eventCount}-event history received and tabled`, eventsPage]);
  const clickStarted = performance.now();
  await eventsPage.page.getByRole("tab", { name: "Graph view" }).click();
  await eventsPage.page.getByRole("tab", { name: "Event view" }).click();
  const tabSwitch = performance.now() - clickStarted;
  await eventsPage.page.close();

  console.log(`console benchmark (headless Chromium, ${process.arch}, server: stepwasm demo on ${endpoint})`);
  for (const [what, { elapsed, longestTask }] of results) {
    console.log(`  ${what}: ${elapsed.toFixed(0)} ms from navigation; longest main-thread task ${longestTask.toFixed(0)} ms`);
  }
  console.log(`  switching Graph -> Events tabs with ${eventCount} events: ${tabSwitch.toFixed(0)} ms`);
  console.log(`  GET .../progress over ${eventCount} events: median ${progressTimes[10].toFixed(1)} ms, max ${progressTimes[19].toFixed(1)} ms (20 requests)`);
} finally {
  await stop();
  await server.stop();
}
