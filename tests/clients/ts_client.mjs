#!/usr/bin/env node
// Drives an agent-os MCP server with the official TypeScript SDK, v1
// (@modelcontextprotocol/sdk) or v2 (@modelcontextprotocol/client), as
// installed by scripts/setup-clients.sh.
//
//   node ts_client.mjs --sdk v1|v2 [--generation 2025|2026-07-28] [--runs N] stdio -- COMMAND [ARGS...]
//   node ts_client.mjs --sdk v1|v2 [--generation 2025|2026-07-28] [--runs N] http URL [--token T]
//
// Each run connects afresh (stdio: a new server process), lists tools,
// prompts, resources and resource templates, gets the `security` prompt,
// starts invoke_security on code holding an AWS key, and waits for it with
// check_persona_job(wait_seconds) and a progress callback until the job ends.
// A run fails when an expectation does not hold, when the client's onerror
// fires, or when the SDK writes a warning or an error to the console.
//
// --generation 2025 (default) connects with `initialize` (the SDK's latest
// 2025 revision); 2026-07-28 pins the 2026-07-28 revision (v2 only:
// `server/discover`, no fallback to initialize).
//
// --listen (v2): one connection with list-changed handlers (notifications on
// 2025, `subscriptions/listen` on 2026-07-28). It prints {"step": "listening"}
// once connected and then {"step": "heard", "list": "tools"|"prompts"} as each
// list changes to include the `spin` persona, which the caller installs; then
// lists both again and ends.
//
// One JSON object per run on stdout, then {"ok": true|false, ...}; exit 1 on failure.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';

const CORE_TOOLS = [
    'invoke_architect', 'invoke_engineer', 'invoke_data', 'invoke_qa', 'invoke_security', 'invoke_sre',
    'check_persona_job', 'list_persona_jobs', 'search_standards',
];
const CORE_PROMPTS = ['architect', 'engineer', 'data', 'qa', 'security', 'sre'];
const AWS_KEY = 'AKIAQ7RX2MBN4KD5TW3P';
const CONTEXT = `import boto3\nKEY_ID = "${AWS_KEY}"\nclient = boto3.client("s3")\n`;

class Failed extends Error {}
const expect = (cond, message) => {
    if (!cond) throw new Failed(message);
};
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

function parseArgs(argv) {
    const a = { sdk: null, generation: '2025', runs: 1, listen: false, transport: null, command: [], url: null, token: null };
    let i = 0;
    while (i < argv.length) {
        const x = argv[i++];
        if (x === '--sdk') a.sdk = argv[i++];
        else if (x === '--generation') a.generation = argv[i++];
        else if (x === '--runs') a.runs = Number(argv[i++]);
        else if (x === '--listen') a.listen = true;
        else if (x === 'stdio') {
            a.transport = 'stdio';
            a.command = argv.slice(argv[i] === '--' ? i + 1 : i);
            break;
        } else if (x === 'http') {
            a.transport = 'http';
            a.url = argv[i++];
            if (argv[i] === '--token') a.token = argv[i + 1];
            break;
        } else throw new Error(`unknown argument ${x}`);
    }
    if (!['v1', 'v2'].includes(a.sdk)) throw new Error('--sdk v1|v2 is required');
    if (!['2025', '2026-07-28'].includes(a.generation)) throw new Error('--generation 2025|2026-07-28');
    if (a.generation !== '2025' && a.sdk === 'v1') throw new Error('the v1 SDK speaks only the 2025 revisions');
    if (a.listen && a.sdk !== 'v2') throw new Error('--listen needs --sdk v2');
    if (!a.transport || (a.transport === 'stdio' && a.command.length === 0)) throw new Error('stdio -- COMMAND or http URL');
    return a;
}

// The SDKs as installed by scripts/setup-clients.sh (not beside this file).
function loadSdk(which) {
    const dir = process.env.AGENT_OS_CLIENTS_DIR || path.join(os.homedir(), '.cache/agent-os/clients');
    const req = createRequire(path.join(dir, 'package.json'));
    if (which === 'v1') {
        const { Client } = req('@modelcontextprotocol/sdk/client/index.js');
        const { StdioClientTransport } = req('@modelcontextprotocol/sdk/client/stdio.js');
        const { StreamableHTTPClientTransport } = req('@modelcontextprotocol/sdk/client/streamableHttp.js');
        const { CallToolResultSchema } = req('@modelcontextprotocol/sdk/types.js');
        const version = req('@modelcontextprotocol/sdk/package.json').version;
        return { Client, StdioClientTransport, StreamableHTTPClientTransport, CallToolResultSchema, version };
    }
    const { Client, StreamableHTTPClientTransport } = req('@modelcontextprotocol/client');
    const { StdioClientTransport } = req('@modelcontextprotocol/client/stdio');
    // The package's exports do not include package.json: read it beside the entry point.
    const version = JSON.parse(readFileSync(path.join(dir, 'node_modules/@modelcontextprotocol/client/package.json'), 'utf8')).version;
    return { Client, StdioClientTransport, StreamableHTTPClientTransport, version };
}

// What the SDK reports besides onerror: console errors fail the run; console
// warnings (e.g. AJV's "unknown format" for an outputSchema) are reported in
// the summary, distinct (they are not protocol errors).
const consoleErrors = [];
const warnings = new Map();
for (const [level, sink] of [['error', null], ['warn', warnings]]) {
    const orig = console[level].bind(console);
    console[level] = (...args) => {
        const line = args.map(String).join(' ');
        if (sink) sink.set(line, (sink.get(line) || 0) + 1);
        else consoleErrors.push(`console.error: ${line}`);
        orig(...args);
    };
}

function structured(result, tool) {
    const text = (result.content || []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
    expect(!result.isError, `${tool} returned isError: ${text}`);
    if (result.structuredContent) return result.structuredContent;
    try {
        return JSON.parse(text);
    } catch {
        throw new Failed(`${tool} returned neither structuredContent nor JSON text: ${text}`);
    }
}

function makeTransport(sdk, args) {
    if (args.transport === 'stdio') {
        return new sdk.StdioClientTransport({
            command: args.command[0],
            args: args.command.slice(1),
            env: { ...process.env },
            stderr: 'inherit',
        });
    }
    const headers = args.token ? { Authorization: `Bearer ${args.token}` } : {};
    return new sdk.StreamableHTTPClientTransport(new URL(args.url), { requestInit: { headers } });
}

// One connection that waits for the `spin` persona to appear in both lists.
async function listenRun(sdk, args) {
    const errors = [];
    const seen = {};
    let done;
    const both = new Promise((r) => (done = r));
    const handler = (list, hasSpin) => ({
        debounceMs: 0,
        onChanged: (err, items) => {
            if (err) {
                errors.push(`${list} list refresh: ${err}`);
                return;
            }
            if (!seen[list] && (items || []).some(hasSpin)) {
                seen[list] = true;
                emit({ step: 'heard', list });
                if (seen.tools && seen.prompts) done();
            }
        },
    });
    const options = {
        capabilities: {},
        listChanged: {
            tools: handler('tools', (t) => t.name === 'invoke_spin'),
            prompts: handler('prompts', (p) => p.name === 'spin'),
        },
    };
    if (args.generation !== '2025') options.versionNegotiation = { mode: { pin: args.generation } };
    const client = new sdk.Client({ name: 'agent-os-e2e-ts-listen', version: '0' }, options);
    client.onerror = (e) => errors.push(`onerror: ${e && e.stack ? e.stack : e}`);
    await client.connect(makeTransport(sdk, args));
    try {
        const protocol = client.getNegotiatedProtocolVersion?.() ?? null;
        if (args.generation !== '2025') expect(protocol === args.generation, `negotiated ${protocol}`);
        const before = (await client.listTools()).tools.map((t) => t.name);
        expect(!before.includes('invoke_spin'), `invoke_spin is listed before the install: ${before}`);
        emit({ step: 'listening', protocol });
        const timeout = new Promise((_, rej) => setTimeout(() => rej(new Failed(`no list change with spin within 60 s (heard ${JSON.stringify(seen)}); errors: ${errors.join(' | ')}`)), 60_000));
        await Promise.race([both, timeout]);
        const tools = (await client.listTools()).tools.map((t) => t.name);
        const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
        expect(tools.includes('invoke_spin'), `tools/list after the change lacks invoke_spin: ${tools}`);
        expect(prompts.includes('spin'), `prompts/list after the change lacks spin: ${prompts}`);
        await new Promise((r) => setTimeout(r, 100));
        expect(errors.length === 0, `the client reported errors: ${errors.join(' | ')}`);
        return { protocol, tools: tools.length, prompts: prompts.length };
    } finally {
        await client.close();
    }
}

async function oneRun(sdk, args, run) {
    const options = { capabilities: {} };
    if (args.generation !== '2025') options.versionNegotiation = { mode: { pin: args.generation } };
    const client = new sdk.Client({ name: `agent-os-e2e-ts-${args.sdk}`, version: '0' }, options);
    const errors = [];
    client.onerror = (e) => errors.push(`onerror: ${e && e.stack ? e.stack : e}`);
    const transport = makeTransport(sdk, args);
    const started = Date.now();
    await client.connect(transport);
    try {
        const protocol = client.getNegotiatedProtocolVersion?.() ?? transport.protocolVersion ?? null;
        const server = client.getServerVersion();
        expect(server && server.name === 'agent-os', `server calls itself ${JSON.stringify(server)}`);
        if (args.generation !== '2025') {
            expect(protocol === args.generation, `negotiated ${protocol}, not ${args.generation}`);
        } else {
            expect(protocol === null || /^2025-/.test(protocol), `negotiated ${protocol} on a 2025 connection`);
        }
        const caps = client.getServerCapabilities() || {};
        expect(caps.tools && caps.prompts && caps.resources, `capabilities lack tools/prompts/resources: ${JSON.stringify(caps)}`);

        const tools = (await client.listTools()).tools.map((t) => t.name);
        const missingTools = CORE_TOOLS.filter((t) => !tools.includes(t));
        expect(missingTools.length === 0, `tools/list lacks ${missingTools}: ${tools}`);

        const prompts = (await client.listPrompts()).prompts;
        const promptNames = prompts.map((p) => p.name);
        const missingPrompts = CORE_PROMPTS.filter((p) => !promptNames.includes(p));
        expect(missingPrompts.length === 0, `prompts/list lacks ${missingPrompts}: ${promptNames}`);
        const sec = prompts.find((p) => p.name === 'security');
        const argNames = (sec.arguments || []).map((x) => x.name);
        expect(argNames.includes('task') && argNames.includes('context'), `security prompt arguments: ${argNames}`);
        const prompt = await client.getPrompt({ name: 'security', arguments: { task: 'review the login handler' } });
        const promptText = prompt.messages.map((m) => (m.content && m.content.text) || '').join('\n');
        expect(promptText.includes('invoke_security') && promptText.includes('review the login handler'),
            `the security prompt does not say to call invoke_security with the task: ${promptText}`);

        const resources = (await client.listResources()).resources;
        const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
        expect(templates.some((t) => t.startsWith('agent-os://standards/')), `resource templates: ${templates}`);
        expect(templates.some((t) => t.startsWith('agent-os://jobs/')), `resource templates: ${templates}`);

        const startedJob = structured(
            await client.callTool({ name: 'invoke_security', arguments: { task: 'security review of the S3 upload helper', context: CONTEXT } }),
            'invoke_security');
        const jobId = startedJob.job_id;
        expect(typeof jobId === 'string' && jobId.length > 0, `invoke_security returned no job_id: ${JSON.stringify(startedJob)}`);

        const progress = [];
        const onprogress = (p) => progress.push({ progress: p.progress, total: p.total, message: p.message });
        let job;
        let polls = 0;
        const deadline = Date.now() + 180_000;
        for (;;) {
            polls += 1;
            const params = { name: 'check_persona_job', arguments: { job_id: jobId, wait_seconds: 30 } };
            const opts = { onprogress, timeout: 120_000 };
            const r = args.sdk === 'v1'
                ? await client.callTool(params, sdk.CallToolResultSchema, opts)
                : await client.callTool(params, opts);
            job = structured(r, 'check_persona_job');
            if (!['pending', 'running'].includes(job.status)) break;
            expect(Date.now() < deadline, `job ${jobId} still ${job.status} after 180 s`);
        }
        expect(job.status === 'complete', `job ${jobId} ended ${job.status}: ${JSON.stringify(job)}`);
        const review = job.result || '';
        expect(review.includes('AWS access key id') && review.includes('(line 2)'), `the review does not name the key and its line: ${review}`);
        expect(!review.includes(AWS_KEY), 'the review repeats the key unredacted');
        expect(progress.length >= 1, `no progress notification for check_persona_job (job ${jobId})`);
        for (let i = 1; i < progress.length; i++) {
            expect(progress[i].progress > progress[i - 1].progress, `progress did not increase: ${JSON.stringify(progress)}`);
        }
        const last = progress[progress.length - 1];
        expect(last.progress === 100 && last.message === 'complete', `the last progress is not 100/complete: ${JSON.stringify(progress)}; errors: ${errors.join(' | ')}`);

        // Let late messages (a stray progress notification after a response) arrive before judging.
        await new Promise((r) => setTimeout(r, 100));
        expect(errors.length === 0, `the client reported errors: ${errors.join(' | ')}`);
        return {
            run, protocol, tools: tools.length, prompts: promptNames.length, resources: resources.length,
            templates: templates.length, job_id: jobId, polls, progress: progress.length, ms: Date.now() - started,
        };
    } finally {
        await client.close();
    }
}

async function main() {
    let args;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        console.log(`usage error: ${e.message}`);
        process.exit(2);
    }
    const sdk = loadSdk(args.sdk);
    const summary = { sdk: args.sdk, sdk_version: sdk.version, generation: args.generation, transport: args.transport };
    const times = [];
    const protocols = new Set();
    let progressTotal = 0;
    if (args.listen) {
        try {
            const r = await listenRun(sdk, args);
            expect(consoleErrors.length === 0, `the SDK reported: ${consoleErrors.join(' | ')}`);
            emit({ ok: true, ...summary, listen: true, ...r, warnings: [...warnings.keys()] });
        } catch (e) {
            const detail = e instanceof Failed ? e.message : (e && e.stack) || String(e);
            emit({ ok: false, ...summary, listen: true, error: detail });
            process.exitCode = 1;
        }
        return;
    }
    try {
        for (let run = 1; run <= args.runs; run++) {
            const r = await oneRun(sdk, args, run);
            emit({ step: 'run', ...r });
            times.push(r.ms);
            protocols.add(r.protocol);
            progressTotal += r.progress;
        }
        expect(consoleErrors.length === 0, `the SDK reported: ${consoleErrors.join(' | ')}`);
    } catch (e) {
        const detail = e instanceof Failed ? e.message : (e && e.stack) || String(e);
        emit({ ok: false, ...summary, runs_passed: times.length, error: detail, warnings: [...warnings.keys()] });
        process.exitCode = 1;
        return;
    }
    times.sort((a, b) => a - b);
    emit({
        ok: true, ...summary, runs: times.length, protocols: [...protocols], progress_notifications: progressTotal,
        ms_median: times[Math.floor(times.length / 2)], ms_max: times[times.length - 1], warnings: [...warnings.keys()],
    });
}

main().then(() => process.exit(process.exitCode ?? 0));
