// `npm run test:packages`: proves the libraries install and run the way a user gets them.
// Packs @brook/broker and @brook/nest-adapter (their `prepack` builds them from scratch), then for
// each supported Nest major creates a scratch Nest application in a temporary directory outside the
// workspace, installs that Nest major from the npm registry and then the tarballs with the README's
// own install line, builds the application with `nest build` (the CLI of the same major) and runs it
// against a private redis-server: it produces one message, consumes it through an @Subscribe handler
// and exits. Then it adds @nestjs/microservices of the same major and runs the Brook transport
// (@brook/nest-adapter/microservices): an emit() to an @EventPattern handler and a send() answered by
// a @MessagePattern handler. The first run proves the adapter works without that optional peer.
// Last it packs the broker host, installs it with the libraries' tarballs into a scratch
// directory with the install line of the README's "### Run the host" block, starts `npx brook-host`
// there against the same redis-server and waits for `GET /health` to answer 200.
// Nest 12 apps are ESM; the Nest 10 and 11 apps are CommonJS, as `nest new` scaffolds them, and load
// the ESM libraries through require(esm) (Node.js >= 20.19).
//   node scripts/check-packages.mjs            every supported major (12, 11, 10)
//   node scripts/check-packages.mjs 12 10      only these (the host is checked in every run)
//   KEEP=1 node scripts/check-packages.mjs     keep the scratch directory
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SUPPORTED = [12, 11, 10];
const majors = process.argv.slice(2).length ? process.argv.slice(2).map(Number) : SUPPORTED;
for (const major of majors) if (!SUPPORTED.includes(major)) throw new Error(`Nest ${major} is not a supported major (${SUPPORTED.join(', ')}).`);

// What each kind of scratch app installs next to Nest: the versions `nest new` gives such an app.
const APP = {
  esm: { typescript: '6.0.3', type: 'module' },
  cjs: { typescript: '5.9.3', type: 'commonjs' },
};
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'brook-packages-'));
const log = (text) => console.log(`packages: ${text} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

function run(command, args, cwd, env = {}) {
  execFileSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
}

/** `run` without blocking: the Nest majors are checked side by side (mostly waiting on the registry). */
function runAsync(command, args, cwd, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} in ${cwd} exited with ${signal ?? code}`))));
  });
}

/** The README's install commands: the `npm pack` and `npm install` lines of the block under "## Install". */
function readmeInstall() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.split(/^## Install$/m)[1]?.split(/^## /m)[0];
  const block = section?.match(/```sh\n([\s\S]*?)```/)?.[1];
  if (!block) throw new Error('README.md has no ```sh block under "## Install".');
  const lines = block.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim());
  const pack = lines.find((line) => line.includes('npm pack'))?.split('&&').map((part) => part.trim()).find((part) => part.startsWith('npm pack'));
  const install = lines.find((line) => line.startsWith('npm install'));
  if (!pack || !install) throw new Error('The README install block needs an `npm pack` line and an `npm install` line.');
  const destination = pack.match(/--pack-destination\s+(\S+)/)?.[1];
  if (!destination) throw new Error('The README `npm pack` line needs --pack-destination.');
  return { pack, install, destination };
}

/** The `npm install` line of the README's "### Run the host" block, which installs the host's tarball. */
function readmeHostInstall() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.split(/^### Run the host$/m)[1]?.split(/^#{2,3} /m)[0];
  const block = section?.match(/```sh\n([\s\S]*?)```/)?.[1];
  if (!block) throw new Error('README.md has no ```sh block under "### Run the host".');
  const lines = block.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim());
  const install = lines.find((line) => line.startsWith('npm install') && line.includes('brook-broker-host'));
  if (!install) throw new Error('The README "### Run the host" block needs an `npm install` line with the host tarball.');
  if (!lines.some((line) => /\bnpx brook-host\b/.test(line))) throw new Error('The README "### Run the host" block needs an `npx brook-host` line.');
  return install;
}

/**
 * Runs `npx brook-host` in `dir` against Redis and waits until `GET /health` answers 200; then stops
 * it with SIGTERM. The wait is generous: on a loaded CI machine loading Nest alone takes seconds.
 */
async function checkHost(dir, redisUrl) {
  const port = await freePort();
  const startedAt = Date.now();
  const child = spawn('npx', ['--no-install', 'brook-host'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, REDIS_URL: redisUrl, PORT: String(port), HOST: '127.0.0.1', BROOK_PREFIX: 'scratch-host', BROOK_LOG_LEVEL: 'warn', BROOK_ADMIN_TOKENS: 'ci:admin:scratch-host-token-0123456789abcdef' },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`brook-host exited with ${child.exitCode}:\n${output}`);
      const health = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) }).then(
        async (response) => ({ status: response.status, body: await response.json() }),
        () => undefined,
      );
      if (health?.status === 200 && health.body?.status === 'ok') return { ...health.body, startMs: Date.now() - startedAt };
      if (Date.now() > deadline) throw new Error(`brook-host did not answer GET /health with 200 within 90 s (last: ${JSON.stringify(health)}):\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const { code, signal } = await exited;
    clearTimeout(timer);
    if (code !== 0 && signal !== 'SIGTERM') console.error(`packages: brook-host stopped with ${code ?? signal}:\n${output}`);
  }
}

/** Splits a command line of the README (plain words, no quoting) and puts the scratch tarball directory in. */
function words(line, destination, tarballs) {
  return line.split(/\s+/).map((word) => word.split(destination).join(tarballs));
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const dir = join(work, 'redis');
  mkdirSync(dir);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'], { stdio: 'ignore' });
  for (let attempt = 0; attempt < 100; attempt++) {
    const pong = await new Promise((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'));
      socket.once('data', (data) => { socket.destroy(); resolve(String(data).startsWith('+PONG')); });
      socket.once('error', () => resolve(false));
    });
    if (pong) return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on port ${port}`);
}

const MAIN = `import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NonRetriableError } from '@brook/broker';
import { BrokerModule, Ctx, InjectProducer, MessageContext, Payload, Producer, Subscribe } from '@brook/nest-adapter';

const TOPIC = 'scratch.greetings';
interface Greeting { hello: string }
let received!: (delivery: { value: Greeting; partition: number; offset: number }) => void;
const delivered = new Promise<{ value: Greeting; partition: number; offset: number }>((resolve) => (received = resolve));

@Injectable()
export class Greeter {
  constructor(@InjectProducer() private readonly producer: Producer) {}

  @Subscribe(TOPIC, 'scratch-group', { fromBeginning: true })
  async greet(@Payload() value: Greeting, @Ctx() ctx: MessageContext): Promise<void> {
    if (typeof value.hello !== 'string') throw new NonRetriableError('not a greeting');
    received({ value, partition: ctx.partition, offset: ctx.offset });
  }

  send() {
    return this.producer.send({ topic: TOPIC, messages: [{ key: 'scratch', value: { hello: 'nest' } }] });
  }
}

@Module({
  imports: [BrokerModule.forRoot({ redis: process.env.REDIS_URL, clientId: 'scratch', topics: [{ topic: TOPIC, partitions: 2 }] })],
  providers: [Greeter],
})
export class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  const [meta] = await app.get(Greeter).send();
  const timer = setTimeout(() => { console.error('scratch: nothing consumed within 20 s'); process.exit(1); }, 20_000);
  const got = await delivered;
  clearTimeout(timer);
  if (got.value.hello !== 'nest' || got.partition !== meta.partition || got.offset !== meta.offset) throw new Error('consumed ' + JSON.stringify(got) + ', produced ' + JSON.stringify(meta));
  await app.close();
  console.log('scratch: produced and consumed ' + TOPIC + '[' + got.partition + ']@' + got.offset + ' (' + (typeof require === 'function' ? 'CommonJS' : 'ESM') + ' app)');
}

main().catch((error) => { console.error(error); process.exit(1); });
`;

const TRANSPORT = `import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload, MicroserviceOptions } from '@nestjs/microservices';
import { BrookClient, BrookContext, BrookServer } from '@brook/nest-adapter/microservices';
import { lastValueFrom } from 'rxjs';

const EVENTS = 'scratch.events';
const SUMS = 'scratch.sums';
interface Delivery { n: number; key: string | null; group: string }
let received!: (delivery: Delivery) => void;
const delivered = new Promise<Delivery>((resolve) => (received = resolve));

@Controller()
export class Handlers {
  @EventPattern<string>(EVENTS)
  counted(@Payload() value: { n: number }, @Ctx() ctx: BrookContext) {
    received({ n: value.n, key: ctx.getKey(), group: ctx.getConsumerGroup() });
  }

  @MessagePattern(SUMS)
  sum(@Payload() numbers: number[]) {
    return numbers.reduce((total, n) => total + n, 0);
  }
}

@Module({ controllers: [Handlers] })
export class TransportModule {}

async function main(): Promise<void> {
  const topics = [{ topic: EVENTS, partitions: 2 }, { topic: SUMS, partitions: 2 }];
  const server = new BrookServer({ redis: process.env.REDIS_URL, group: 'scratch-rpc', clientId: 'scratch', topics });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(TransportModule, { strategy: server, logger: ['error', 'warn'] });
  await app.listen();
  const client = new BrookClient({ redis: process.env.REDIS_URL, clientId: 'scratch', requestTimeoutMs: 20_000 });
  const timer = setTimeout(() => { console.error('scratch: no event or reply within 20 s'); process.exit(1); }, 20_000);
  await lastValueFrom(client.emit(EVENTS, { key: 'k-1', value: { n: 7 } }));
  const got = await delivered;
  const total = await lastValueFrom(client.send<number>(SUMS, [1, 2, 3]));
  clearTimeout(timer);
  if (got.n !== 7 || got.key !== 'k-1' || got.group !== 'scratch-rpc' || total !== 6) throw new Error('transport: got ' + JSON.stringify({ got, total }));
  await client.close();
  await app.close();
  console.log('scratch: transport emit -> @EventPattern and send -> @MessagePattern = ' + total + ' (' + (typeof require === 'function' ? 'CommonJS' : 'ESM') + ' app)');
}

main().catch((error) => { console.error(error); process.exit(1); });
`;

function tsconfig(kind) {
  const common = { target: 'ES2022', outDir: 'dist', rootDir: 'src', strict: true, skipLibCheck: true, experimentalDecorators: true, emitDecoratorMetadata: true, types: ['node'] };
  return kind === 'esm'
    ? { compilerOptions: { ...common, module: 'nodenext', moduleResolution: 'nodenext' } }
    : { compilerOptions: { ...common, module: 'commonjs', esModuleInterop: true } };
}

let redis;
let failed = false;
try {
  const { pack, install, destination } = readmeInstall();
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  log(`packing: ${pack}`);
  const [npm, ...packArgs] = words(pack, destination, tarballs);
  run(npm, [...packArgs, '--silent'], root);
  for (const file of ['brook-broker-0.1.0.tgz', 'brook-nest-adapter-0.1.0.tgz']) {
    const listing = execFileSync('tar', ['-tzf', join(tarballs, file)], { encoding: 'utf8' }).trim().split('\n');
    for (const needed of ['package/package.json', 'package/README.md', 'package/LICENSE', 'package/dist/index.js', 'package/dist/index.d.ts']) {
      if (!listing.includes(needed)) throw new Error(`${file} lacks ${needed}`);
    }
    log(`${file}: ${listing.length} files`);
  }
  redis = await startRedis();
  log(`redis-server at ${redis.url}`);

  // The broker host as operators install it: its tarball next to the libraries', run with npx.
  const hostInstall = readmeHostInstall();
  run('npm', ['pack', '-w', 'apps/broker-host', '--pack-destination', tarballs, '--silent'], root);
  const hostListing = execFileSync('tar', ['-tzf', join(tarballs, 'brook-broker-host-0.1.0.tgz')], { encoding: 'utf8' }).trim().split('\n');
  for (const needed of ['package/package.json', 'package/README.md', 'package/LICENSE', 'package/dist/main.js', 'package/dist/host.js', 'package/dist/console/serve-console.js', 'package/dist/ui/index.html']) {
    if (!hostListing.includes(needed)) throw new Error(`brook-broker-host-0.1.0.tgz lacks ${needed}`);
  }
  if (hostListing.some((file) => file.startsWith('package/src/'))) throw new Error('brook-broker-host-0.1.0.tgz holds its sources');
  const hostDir = join(work, 'host');
  mkdirSync(hostDir);
  writeFileSync(join(hostDir, 'package.json'), JSON.stringify({ name: 'scratch-brook-host', private: true, version: '0.0.0' }, null, 2));
  log(`host: ${hostListing.length} files; installing: ${hostInstall}`);
  const [hostNpm, ...hostArgs] = words(hostInstall, destination, tarballs);
  run(hostNpm, [...hostArgs, '--no-audit', '--no-fund', '--loglevel=error'], hostDir);
  const health = await checkHost(hostDir, `${redis.url}/15`);
  log(`host: npx brook-host answered GET /health 200 ${(health.startMs / 1000).toFixed(1)} s after it started (${JSON.stringify(health.info)})`);

  const checkMajor = async (major) => {
    const kind = major >= 12 ? 'esm' : 'cjs';
    const app = join(work, `nest-${major}`);
    mkdirSync(join(app, 'src'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: `scratch-nest-${major}`, private: true, version: '0.0.0', type: APP[kind].type }, null, 2));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig(kind), null, 2));
    writeFileSync(join(app, 'nest-cli.json'), JSON.stringify({ sourceRoot: 'src', compilerOptions: { tsConfigPath: 'tsconfig.json', deleteOutDir: true } }, null, 2));
    writeFileSync(join(app, 'src', 'main.ts'), MAIN);
    const quiet = ['--no-audit', '--no-fund', '--loglevel=error'];
    // The application as it was before Brook: Nest and its usual companions.
    await runAsync('npm', ['install', ...quiet, `@nestjs/common@^${major}`, `@nestjs/core@^${major}`, 'reflect-metadata@^0.2.0', 'rxjs@^7.8.0', `typescript@${APP[kind].typescript}`, '@types/node@^20.19.0', `@nestjs/cli@^${major}`], app);
    const versions = JSON.parse(readFileSync(join(app, 'node_modules/@nestjs/core/package.json'), 'utf8')).version;
    log(`Nest ${major}: scratch ${kind === 'esm' ? 'ESM' : 'CommonJS'} app with @nestjs/core ${versions}; installing: ${install}`);
    const [npmCmd, ...installArgs] = words(install, destination, tarballs);
    await runAsync(npmCmd, [...installArgs, ...quiet], app);
    await runAsync(process.execPath, [join(app, 'node_modules/@nestjs/cli/bin/nest.js'), 'build'], app);
    await runAsync(process.execPath, ['dist/main.js'], app, { REDIS_URL: `${redis.url}/${major}` });
    log(`Nest ${major}: @Subscribe ok; adding @nestjs/microservices@^${major} for the transport`);
    await runAsync('npm', ['install', ...quiet, `@nestjs/microservices@^${major}`], app);
    writeFileSync(join(app, 'src', 'transport.ts'), TRANSPORT);
    await runAsync(process.execPath, [join(app, 'node_modules/@nestjs/cli/bin/nest.js'), 'build'], app);
    await runAsync(process.execPath, ['dist/transport.js'], app, { REDIS_URL: `${redis.url}/${major}` });
    log(`Nest ${major}: ok`);
  };
  // Side by side: each major has its own scratch app and Redis database; their installs mostly wait on the registry.
  const results = await Promise.allSettled(majors.map(checkMajor));
  const failures = results.flatMap((result, i) => (result.status === 'rejected' ? [`Nest ${majors[i]}: ${result.reason instanceof Error ? result.reason.message : result.reason}`] : []));
  if (failures.length > 0) throw new Error(failures.join('; '));
} catch (error) {
  failed = true;
  console.error(`packages: FAILED: ${error instanceof Error ? error.message : error}`);
} finally {
  redis?.stop();
  if (process.env.KEEP) console.log(`packages: scratch directory kept: ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
log(failed ? 'failed' : `all checks passed for Nest ${majors.join(', ')}`);
console.log(`packages: duration ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
