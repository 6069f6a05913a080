/** The HTTPS server: body reading, latency, fault rules, routing, request log. Vaults and IMDS reuse it (own listeners). */
import { createServer, type Server } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { handleGraphUsers, handleTokenAdmin } from './admin';
import { handleCore } from './core';
import { handleEntra } from './entra';
import { Faults, type FaultAction } from './faults';
import { handleOidc } from './oidc';
import { handlePats } from './pats';
import { json, notFound, resolveCaller, signInPage, type AuthKind, type Ctx, type Reply } from './http';
import { drip, oversized } from './streams';
import type { EmulatorState } from './state';
import { newGuid } from './tokens';

export interface RequestLogEntry {
  seq: number;
  method: string;
  /** Path without query. */
  path: string;
  query: Record<string, string>;
  /** HTTP status sent; 0 when the connection was reset or left hanging. */
  status: number;
  auth: AuthKind;
  at: number;
  /** Set on requests to a vault's listener (`em.addVault`): the vault name. */
  vault?: string;
  /** Set on requests to the IMDS listener (`em.startImds`). */
  imds?: true;
}

/** What differs between the Azure DevOps/Entra host, a vault and IMDS. */
export interface Flavour {
  route: (ctx: Ctx) => Reply;
  /** Headers every answer carries (the VSS session headers by default). */
  headers: () => Record<string, string>;
  /** Body of an injected `status` fault without its own body. */
  faultBody: (status: number) => unknown;
  /** Marks log entries (vault name, IMDS). */
  mark?: Pick<RequestLogEntry, 'vault' | 'imds'>;
}

export interface ServerOptions {
  /** TLS key and certificate; without them the listener is plain HTTP (IMDS). */
  key?: string;
  cert?: string;
  flavour?: Flavour;
  latencyMs: number;
  state: EmulatorState;
  faults: Faults;
  log: RequestLogEntry[];
}

const MAX_BODY = 1024 * 1024;

function route(ctx: Ctx): Reply {
  const entra = handleEntra(ctx);
  if (entra) return entra;
  const s = ctx.segments.map((x) => x.toLowerCase());
  if (s.length >= 2 && (s[1] === '_apis' || s[2] === '_apis')) {
    const org = ctx.state.org(ctx.segments[0]);
    if (!org)
      return notFound(`TF400813: The organization '${ctx.segments[0]}' could not be found.`, 'HostNotFoundException');
    if (s.length === 4 && s[1] === '_apis' && s[2] === 'tokens' && s[3] === 'pats') return handlePats(ctx, org);
    if (s.length === 4 && s[1] === '_apis' && s[2] === 'graph' && s[3] === 'users') return handleGraphUsers(ctx);
    if (s.length === 5 && s[1] === '_apis' && s[2] === 'tokenadmin' && s[3] === 'personalaccesstokens')
      return handleTokenAdmin(ctx, org, ctx.segments[4]);
    const oidc = handleOidc(ctx, org);
    if (oidc) return oidc;
    const core = handleCore(ctx, org);
    if (core) return core;
  }
  return notFound();
}

function vssFaultBody(status: number): unknown {
  return {
    $id: '1',
    innerException: null,
    message: `Injected fault: HTTP ${status}`,
    typeName: 'Emulator.InjectedFault, Emulator',
    typeKey: 'InjectedFault',
    errorCode: 0,
    eventId: 0,
  };
}

/** Entra + Azure DevOps on the main listener. */
export const ADO_FLAVOUR: Flavour = {
  route,
  headers: () => ({ 'X-TFS-Session': newGuid(), ActivityId: newGuid() }),
  faultBody: vssFaultBody,
};

function send(res: ServerResponse, reply: Reply, flavour: Flavour): void {
  const headers: Record<string, string> = { ...flavour.headers(), ...reply.headers };
  let body = '';
  if (typeof reply.body === 'string') body = reply.body;
  else if (reply.body !== undefined) {
    body = JSON.stringify(reply.body);
    headers['Content-Type'] ??= 'application/json; charset=utf-8';
  }
  if (body !== '') headers['Content-Length'] = String(Buffer.byteLength(body));
  res.writeHead(reply.status, headers);
  res.end(body);
}

function faultReply(action: FaultAction, flavour: Flavour): Reply | undefined {
  switch (action.kind) {
    case 'status':
      return json(
        action.status,
        action.body ?? flavour.faultBody(action.status),
        action.retryAfterSeconds !== undefined ? { 'Retry-After': String(action.retryAfterSeconds) } : undefined,
      );
    case 'html':
      return signInPage();
    case 'malformedJson':
      return {
        status: 200,
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: '{"patToken":{"displayName":"trunc',
      };
    case 'endlessPages':
      return json(200, { continuationToken: newGuid(), patTokens: [] });
    case 'redirect':
      return { status: action.status ?? 307, headers: { Location: action.location } };
    default:
      return undefined;
  }
}

export class EmulatorServer {
  readonly server: Server | ReturnType<typeof createHttpServer>;
  private readonly sockets = new Set<Socket>();
  private closing = false;
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly flavour: Flavour;

  constructor(private readonly o: ServerOptions) {
    this.flavour = o.flavour ?? ADO_FLAVOUR;
    const listener = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, json(500, { message: `Emulator error: ${String(err)}` }), this.flavour);
      });
    };
    this.server = o.key && o.cert ? createServer({ key: o.key, cert: o.cert }, listener) : createHttpServer(listener);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /** Destroys every socket (hung ones included) and stops listening. */
  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const s of this.sockets) s.destroy();
      for (const [t, done] of this.timers) {
        clearTimeout(t);
        done();
      }
      this.timers.clear();
    });
  }

  /** Waits for `p` (forever when undefined); close() cuts it short. */
  private until(p: Promise<unknown> | undefined): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => undefined, 2 ** 31 - 1);
      this.timers.set(t, resolve);
      void p?.then(
        () => {
          clearTimeout(t);
          this.timers.delete(t);
          resolve();
        },
        () => resolve(),
      );
    });
  }

  /** A sleep that close() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.set(t, resolve);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const caller = resolveCaller(this.o.state, req.headers.authorization);
    const method = (req.method ?? 'GET').toUpperCase();
    const entry: RequestLogEntry = {
      seq: this.o.log.length + 1,
      method,
      path: url.pathname,
      query,
      status: 0,
      auth: caller.kind,
      at: Date.now(),
      ...this.flavour.mark,
    };
    this.o.log.push(entry);
    const body = await readBody(req);
    if (this.o.latencyMs > 0) await this.sleep(this.o.latencyMs);
    if (this.closing) return;
    const reply = (r: Reply): void => {
      entry.status = r.status;
      send(res, r, this.flavour);
    };
    const reset = (): void => {
      req.socket.destroy();
    };
    const action = this.o.faults.take(method, url.pathname);
    if (action?.kind === 'hang') return; // socket stays open until close()
    if (action?.kind === 'hold' && !action.answerOnly) {
      action.onHeld?.();
      await this.until(action.until);
    }
    if (action?.kind === 'reset') return reset();
    if (action?.kind === 'delay') await this.sleep(action.ms);
    if (this.closing) return;
    if (action?.kind === 'drip' || action?.kind === 'oversized') {
      entry.status = 200;
      return action.kind === 'drip' ? drip(res, action.everyMs) : oversized(res, action.gzip ?? false, action.bytes);
    }
    const injected = action ? faultReply(action, this.flavour) : undefined;
    if (injected) return reply(injected);
    const segments = url.pathname
      .split('/')
      .filter(Boolean)
      .map((x) => decodeURIComponent(x));
    const ctx: Ctx = {
      method,
      path: url.pathname,
      segments,
      query,
      headers: req.headers,
      body,
      state: this.o.state,
      baseUrl: this.o.state.baseUrl,
      caller,
    };
    const groupsBefore =
      action?.kind === 'lostUpdate'
        ? this.o.state.groups.map((g) => ({ g, variables: structuredClone(g.variables) }))
        : [];
    const real = this.flavour.route(ctx);
    if (action?.kind === 'hold') {
      action.onApplied?.();
      if (action.answerOnly) {
        action.onHeld?.();
        await this.until(action.until);
      }
      if (this.closing) return;
    }
    if (action?.kind === 'lostUpdate') {
      for (const { g, variables } of groupsBefore) {
        if (JSON.stringify(g.variables) === JSON.stringify(variables)) continue;
        g.variables = { ...variables, 'Other.Writer': { value: 'written by someone else' } };
        // The other writer's request lands a little later (its own round trip): a later modifiedOn, as the service keeps it.
        g.modifiedOn = new Date(g.modifiedOn.getTime() + 20);
      }
    }
    if (action?.kind === 'tamper') return reply({ ...real, body: action.change(structuredClone(real.body)) });
    if (action?.kind === 'afterApply') {
      // The operation really happened; the answer is lost.
      if (action.then === 'reset') return reset();
      return reply(
        faultReply(
          { kind: 'status', status: action.then.status, retryAfterSeconds: action.then.retryAfterSeconds },
          this.flavour,
        ) ?? real,
      );
    }
    reply(real);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
