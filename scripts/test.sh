#!/usr/bin/env bash
# The test command (`npm test`):
#   0. tsc --noEmit over the whole repo (the build itself skips type checking)
#   1. vitest: test/unit and test/integration (vitest.config.mts)
#   2. next build, for the end-to-end specs (beside vitest): the portal, then the remote-app
#      fixture (test/fixtures/remote-app)
#   3. playwright on PostgreSQL (when TEST_POSTGRES_URL is set), from the end of the build on,
#      beside vitest: the specs in pg_specs below, the flows that write, with
#      PORTCULLIS_E2E_DATABASE=postgres; E2E_POSTGRES=all runs every spec
#   4. playwright on SQLite, once vitest is done: test/e2e/**/*.spec.ts (playwright.config.ts)
# Every stage runs even when an earlier one failed. The last line is the total over all
# stages, `N passed, N failed` (`, N skipped` when some were); the exit code is non-zero
# if anything failed or no test ran at all.
#
# Env:
#   SKIP_BUILD=1      never build (uses the existing .next); SKIP_BUILD=auto builds only when a
#                     source file is newer than .next/BUILD_ID. Default: always build.
#   TEST_POSTGRES_URL a PostgreSQL database for the PostgreSQL runs; unset, they are skipped.
#                     .ci/run starts one; locally: export TEST_POSTGRES_URL=$(bash scripts/pg-cluster.sh start)
#   CHROMIUM_PATH     the browser for Playwright (default /usr/bin/chromium-headless-shell, else
#                     /usr/bin/chromium; see playwright.config.ts).
#   PW_TRACE          a Playwright trace mode (e.g. retain-on-failure); default off.
#   E2E_POSTGRES      subset (default): the PostgreSQL pass runs pg_specs; all: every spec; off: none.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
export NEXT_TELEMETRY_DISABLED=1

reports=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-test.XXXXXX") || exit 2
trap 'rm -rf "$reports"' EXIT

passed=0 failed=0 skipped=0
stage() { printf '\n=== [%s] %s\n' "$(date '+%H:%M:%S')" "$*"; }

# count KIND REPORT EXIT_CODE -> prints "passed failed skipped" from a vitest or playwright
# JSON report. A runner that exited non-zero without a failing test in its report (a file
# that did not load, a crash, a config error, no report at all) counts as one failure.
count() {
  node -e '
    const fs = require("fs");
    const path = require("path");
    const [kind, file, code, failuresFile] = [process.argv[1], process.argv[2], Number(process.argv[3]), process.argv[4]];
    let p = 0, f = 0, s = 0, why = "";
    const failures = [];
    // Playwright: every test that ended unexpected, with its file and title path.
    const walk = (suite, outer) => {
      const titles = suite.title && !/\.spec\.ts$/.test(suite.title) ? [...outer, suite.title] : outer;
      for (const spec of suite.specs || []) {
        for (const t of spec.tests || []) {
          if (t.status === "unexpected") failures.push(`${kind}: ${spec.file}:${spec.line} › ${[...titles, spec.title].join(" › ")}`);
        }
      }
      for (const child of suite.suites || []) walk(child, titles);
    };
    try {
      const r = JSON.parse(fs.readFileSync(file, "utf8"));
      if (kind === "vitest") {
        p = r.numPassedTests || 0;
        f = r.numFailedTests || 0;
        s = (r.numPendingTests || 0) + (r.numTodoTests || 0);
        for (const t of r.testResults || []) {
          for (const a of t.assertionResults || []) {
            if (a.status === "failed") failures.push(`${kind}: ${path.relative(process.cwd(), t.name)} › ${a.fullName || a.title}`);
          }
          if (t.status === "failed" && !(t.assertionResults || []).some((a) => a.status === "failed")) {
            failures.push(`${kind}: ${path.relative(process.cwd(), t.name)} (outside any test)`);
            f++;
            console.error(`${kind}: ${t.name} failed outside any test: ${(t.message || "").split("\n")[0]}`);
          }
        }
      } else {
        const st = r.stats || {};
        for (const suite of r.suites || []) walk(suite, []);
        p = (st.expected || 0) + (st.flaky || 0);
        f = st.unexpected || 0;
        s = st.skipped || 0;
        for (const e of r.errors || []) console.error(`${kind}: error outside any test: ${(e.message || "").split("\n")[0]}`);
        if ((r.errors || []).length && !f) f = 1;
      }
    } catch (e) {
      why = `no readable report (${e.message})`;
    }
    if (code !== 0 && f === 0) {
      f = 1;
      console.error(`${kind}: exited ${code} without a failing test in its report${why ? ": " + why : ""}; counted as 1 failure`);
      failures.push(`${kind}: exited ${code} without a failing test in its report${why ? ": " + why : ""}`);
    }
    if (failures.length) fs.appendFileSync(failuresFile, failures.join("\n") + "\n");
    console.log(p, f, s);
  ' "$1" "$2" "$3" "$reports/failures.txt"
}

add() { # add KIND REPORT EXIT_CODE
  local p f s
  read -r p f s < <(count "$@")
  echo "--- $1: $p passed / $f failed / $s skipped (exit $3)"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

if [ -z "${TEST_POSTGRES_URL:-}" ]; then
  echo "note: TEST_POSTGRES_URL is unset: the PostgreSQL runs are skipped (only SQLite is tested)."
  echo "      .ci/run starts a cluster; locally: export TEST_POSTGRES_URL=\$(bash scripts/pg-cluster.sh start)"
fi

# 0. types: the build does not type-check (next.config.js), so the whole repo is checked here.
stage "typecheck (tsc --noEmit)"
if npx tsc --noEmit -p .; then
  echo "--- typecheck: clean"
else
  echo "--- typecheck failed: counted as 1 failure"
  echo "typecheck: tsc --noEmit" >>"$reports/failures.txt"
  failed=$((failed + 1))
fi

# 1 + 2. unit + integration, with the build beside them. The vitest run spends most of its
# time waiting on databases and child processes (about a third of two cores busy), so the
# build's CPU fits in its gaps; the build log is printed when both are done.
specs=$(find test/e2e -name '*.spec.ts' -not -path '*/node_modules/*' 2>/dev/null | head -n 1)
build=no
if [ -n "$specs" ]; then
  build=yes
  case "${SKIP_BUILD:-}" in
    1 | true | yes) build=no ;;
    auto)
      # Stale when any file but tests, benches and generated output is newer than the build.
      if [ -f .next/BUILD_ID ] && [ -z "$(find . \( -path ./node_modules -o -path ./.next -o -path ./.git -o -path ./test \
          -o -path ./test-results -o -path ./playwright-report -o -path ./data -o -path ./bench \) -prune \
          -o -type f ! -name '*.tsbuildinfo' ! -name next-env.d.ts -newer .next/BUILD_ID -print -quit)" ]; then
        build=no
      fi
      ;;
  esac
fi
# 3. end-to-end, in two passes against the production build: every spec on SQLite and the
# specs of every flow that writes on PostgreSQL (with TEST_POSTGRES_URL). Each pass has its
# own ports, data dirs, databases and output dir.
#
# The PostgreSQL pass (one worker) starts as soon as the build is done, beside vitest: vitest
# keeps about a third of two cores busy, so the pass fills the rest. The SQLite pass (two
# workers) starts when vitest is done. In CI the e2e passes were the tail: running the
# PostgreSQL one beside vitest moves its minutes off the end.
pg_specs=(
  test/e2e/api.spec.ts           # every REST write: users, bulk require, reset, groups + members, policies, settings
  test/e2e/scale-out.spec.ts     # two instances on one database: one TOTP code at once (R-I3), a policy made on one
  test/e2e/login.spec.ts         # sign-in, sessions
  test/e2e/totp.spec.ts          # TOTP setup + verify, recovery codes, throttling
  test/e2e/webauthn.spec.ts      # WebAuthn registration and sign-in
  test/e2e/duo.spec.ts           # Duo start, callback
  test/e2e/admin.spec.ts         # console: bulk Require MFA, policies, reset
  test/e2e/admin-console.spec.ts # console: users, factors, sessions, settings, outbox, API keys
  test/e2e/mail.spec.ts          # mail: outbox, worker, SMTP
  test/e2e/mfa-throttle.spec.ts  # guess throttling counters and the warning mail (R-I2)
  test/e2e/own-factor.spec.ts    # a user's own factor and password changes (R-E8)
  test/e2e/invitations.spec.ts   # invitations and the set-password link page (issue 15)
  test/e2e/next-auth.spec.ts     # sign-out ends the session row
  test/e2e/forward-auth.spec.ts  # both endpoints under npm start: session lookup, group names (Remote-*)
  test/e2e/lost-device.spec.ts   # a recovery code, a new device, the last code, new codes (issue 15 §3)
  test/e2e/password-reset.spec.ts # forgot password, admin-sent reset, change ends other sessions (issue 15)
  test/e2e/ways-out.spec.ts      # sign-out from Set Up, /denied (its audit reference), the console (issue 16)
  test/e2e/portal-ux.spec.ts     # confirm steps, recovery codes shown once, deadlines, notices (issue 16)
  test/e2e/console-users.spec.ts # counts, bulk remove, CSV export, last sign-in, API key expiry (issue 16)
  test/e2e/helpdesk.spec.ts      # helpdesk role: TOTP reset, 403s on every other console page and action (issue 18)
  test/e2e/shutdown.spec.ts      # SIGTERM under npm start: a sign-in in flight completes, held mail is released (issue 17)
  test/e2e/secret-rotation.spec.ts # A to B,A to B: sessions, rotate-secrets re-seals TOTP secrets (issue 17)
  test/e2e/monitoring.spec.ts    # /healthz, /readyz, /metrics after a sign-in and a TOTP verification (issue 17)
  test/e2e/auth-strength.spec.ts # a TOTP session stepped up to a security key, re-verification after N minutes (issue 18)
  test/e2e/remembered-devices.spec.ts # "don't ask again on this device" skips the challenge until forgotten (issue 18)
  test/e2e/grace-days.spec.ts    # grace days on joining a group under a require-MFA policy: skip, deadline, then forced (issue 18)
  # config-at-start and backup-restore: SQLite only (no database at all; SQLite's backup API).
  # reverse-proxies and remote-gate: SQLite only. They touch the database only through the
  # endpoint above and the sign-in/TOTP pages of login/totp, and nginx, Caddy and a second
  # Next.js app per pass would not fit CI's 20 minutes.
)
# …less Duo's outage tests (no answer, an error, a failed health check: ~45 s of waiting,
# refused before anything is written; they run on SQLite).
pg_skip='fails closed when'
run_pg=no
if [ -n "$specs" ]; then
  case "${E2E_POSTGRES:-subset}" in
    off) ;;
    *) [ -n "${TEST_POSTGRES_URL:-}" ] && run_pg=yes ;;
  esac
fi
if [ "${E2E_POSTGRES:-subset}" = all ]; then pg_args=(); else pg_args=("${pg_specs[@]}" --grep-invert "$pg_skip"); fi

# build, then (once it succeeded) the PostgreSQL pass; its log is printed after the SQLite pass.
build_then_postgres() {
  if [ "$build" = yes ]; then
    # The fixture (test/fixtures/remote-app) is the separate Next.js app of remote-gate.spec.ts,
    # protected by `portcullis/next`; its build links node_modules/portcullis to this repo.
    { npx next build && node test/fixtures/remote-app/build.mjs; } >"$reports/build.log" 2>&1
    local rc=$?
    echo "$rc" >"$reports/build.rc"
    [ "$rc" -eq 0 ] || return 0
  fi
  if [ "$run_pg" = yes ]; then
    printf '=== [%s] playwright on PostgreSQL (%s), started when the build was done\n' "$(date '+%H:%M:%S')" "${pg_args[*]:-every spec}" \
      >"$reports/playwright-postgres.log"
    PORTCULLIS_E2E_DATABASE=postgres PORTCULLIS_E2E_JSON="$reports/playwright-postgres.json" \
      npx playwright test --workers=1 --output test-results/postgres "${pg_args[@]}" >>"$reports/playwright-postgres.log" 2>&1
    echo $? >"$reports/playwright-postgres.rc"
  fi
}
bg_pid=
if [ -n "$specs" ]; then
  if [ "$build" = yes ]; then
    stage "next build: the portal, then the remote-app fixture; then the PostgreSQL e2e pass (in the background, beside vitest)"
  elif [ "$run_pg" = yes ]; then
    stage "the PostgreSQL e2e pass (in the background, beside vitest)"
  fi
  build_then_postgres &
  bg_pid=$!
fi

stage "vitest (test/unit, test/integration)"
npx vitest run --passWithNoTests --reporter=default --reporter=json --outputFile.json="$reports/vitest.json"
add vitest "$reports/vitest.json" $?

if [ -z "$specs" ]; then
  stage "no end-to-end specs in test/e2e: build and Playwright skipped"
else
  build_ok=yes
  if [ "$build" = yes ]; then
    # Wait for the build only: the background job goes on with the PostgreSQL pass.
    while [ ! -f "$reports/build.rc" ] && kill -0 "$bg_pid" 2>/dev/null; do sleep 2; done
    stage "next build (its log)"
    cat "$reports/build.log"
    build_rc=$(cat "$reports/build.rc" 2>/dev/null || echo 1)
    if [ "$build_rc" -ne 0 ]; then
      build_ok=no
      echo "--- next build failed: counted as 1 failure; Playwright skipped"
      echo "next build: exited $build_rc (its log is above)" >>"$reports/failures.txt"
      failed=$((failed + 1))
    fi
  else
    stage "next build skipped (SKIP_BUILD=${SKIP_BUILD:-}); using the existing .next"
  fi

  if [ "$build_ok" = yes ]; then
    if [ -n "${CHROMIUM_PATH:-}" ]; then
      [ -x "$CHROMIUM_PATH" ] || echo "warning: no browser at CHROMIUM_PATH=$CHROMIUM_PATH"
    elif [ ! -x /usr/bin/chromium-headless-shell ] && [ ! -x /usr/bin/chromium ]; then
      echo "warning: no browser (install Debian's chromium-headless-shell, or set CHROMIUM_PATH)"
    fi

    # Two workers (spec files in parallel; each starts its own portal on its own port, data
    # dir and database). Much of an e2e test is waiting (the next TOTP step, the mail
    # worker's poll), which another spec's work fills.
    stage "playwright on SQLite (test/e2e, 2 workers)"
    PORTCULLIS_E2E_DATABASE=sqlite PORTCULLIS_E2E_JSON="$reports/playwright-sqlite.json" npx playwright test --workers=2 --output test-results/sqlite
    add playwright-sqlite "$reports/playwright-sqlite.json" $?
  fi
  wait "$bg_pid"
  if [ "$run_pg" = yes ] && [ "$build_ok" = yes ]; then
    stage "playwright on PostgreSQL (its log)"
    cat "$reports/playwright-postgres.log"
    add playwright-postgres "$reports/playwright-postgres.json" "$(cat "$reports/playwright-postgres.rc" 2>/dev/null || echo 1)"
  elif [ "$run_pg" = no ]; then
    stage "playwright on PostgreSQL skipped: ${TEST_POSTGRES_URL:+E2E_POSTGRES=off}${TEST_POSTGRES_URL:-TEST_POSTGRES_URL is unset}"
  fi
fi

stage "done"
# What failed, by name, just above the total: CI shows only the tail of a long log.
if [ -s "$reports/failures.txt" ]; then
  echo "failed:"
  sed 's/^/  /' "$reports/failures.txt"
fi
total="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && total="$total, $skipped skipped"
if [ $((passed + failed)) -eq 0 ]; then
  echo "no test ran: that counts as a failure"
  echo "$total"
  exit 1
fi
echo "$total"
[ "$failed" -eq 0 ]
