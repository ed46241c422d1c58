/**
 * Reading a synthesized CloudFormation template (`cdk.out/<Stack>.template.json`): its resources,
 * the intrinsic functions CDK writes (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`),
 * and what it declares for Lambda: the functions (their asset in `cdk.out`) and their SQS event
 * source mappings. No AWS calls here; {@link StackProvisioner} creates the resources.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { StackTemplateError } from '../../errors.js';

/** One resource of a template, as synthesized. */
export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
}

/** The parts of a CloudFormation template the emulation reads. */
export interface CloudFormationTemplate {
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, { Value?: unknown; Description?: string }>;
  Parameters?: Record<string, { Type?: string; Default?: unknown }>;
}

/** A template read from disk, with where it came from. */
export interface StackTemplate {
  /** Absolute path of the template file. */
  path: string;
  /** The cloud assembly directory (`cdk.out`) holding the template and its assets. */
  assemblyDirectory: string;
  /** The stack's name: the template's file name without `.template.json`. */
  stackName: string;
  template: CloudFormationTemplate;
}

/** What a `Ref` and a `Fn::GetAtt` of a created resource resolve to. */
export interface ResolvedResource {
  /** The value of `Ref` (a queue's URL, a table's or bucket's name, a function's name). */
  ref: string;
  /** Values of `Fn::GetAtt` by attribute name (`Arn`, `QueueName`, ...). */
  attributes: Record<string, string>;
}

/** What intrinsic functions may refer to: created resources and the pseudo parameters. */
export interface ResolutionScope {
  stack: StackTemplate;
  region: string;
  accountId: string;
  /** Resources created so far, by logical ID. */
  resources: ReadonlyMap<string, ResolvedResource>;
}

/** A Lambda function of the template, as the emulation runs it. */
export interface LambdaFunctionSpec {
  /** The function's logical ID in the template. */
  logicalId: string;
  /** Its name in the emulation (`FunctionName` if the template sets one). */
  functionName: string;
  functionArn: string;
  /** `Handler`, e.g. `index.handler`: the module `index` (`.js`, `.mjs` or `.cjs`) and its export `handler`. */
  handler: string;
  /** `Runtime`, e.g. `nodejs22.x`. */
  runtime: string | undefined;
  /** `Architectures` (not emulated: the function runs on this machine's). */
  architectures: string[];
  /** `MemorySize` in MB. @default 128, as Lambda's */
  memorySize: number;
  /** `Timeout` in seconds. @default 3, as Lambda's */
  timeoutSeconds: number;
  /** `Environment.Variables`, with references resolved to the emulated resources. */
  environment: Record<string, string>;
  /** Variables that could not be resolved (they refer to something not emulated), left out of `environment`. */
  unresolvedEnvironment: Array<{ name: string; reason: string }>;
  /** `ReservedConcurrentExecutions`, when set. */
  reservedConcurrency: number | undefined;
  /**
   * The function's code: the asset directory in `cdk.out` (from the resource's `aws:asset:path`
   * metadata), or undefined with `codeProblem` saying why (inline code, a container image).
   */
  codeDirectory: string | undefined;
  codeProblem: string | undefined;
}

/** An `AWS::Lambda::EventSourceMapping` from an SQS queue of the template. */
export interface SqsEventSourceSpec {
  logicalId: string;
  /** The logical ID of the function it invokes. */
  functionLogicalId: string;
  /** The logical ID of the queue it polls. */
  queueLogicalId: string;
  queueArn: string;
  queueUrl: string;
  /** `BatchSize`: most messages per invocation. @default 10 */
  batchSize: number;
  /** `MaximumBatchingWindowInSeconds`: how long to gather a batch. @default 0 */
  maximumBatchingWindowSeconds: number;
  /** `ScalingConfig.MaximumConcurrency`: most invocations at once (2–1,000); undefined when unset. */
  maximumConcurrency: number | undefined;
  /** `FunctionResponseTypes` includes `ReportBatchItemFailures`: the response names the failed messages. */
  reportBatchItemFailures: boolean;
  /** `Enabled`. @default true */
  enabled: boolean;
  /** Properties the emulation does not honour (e.g. `FilterCriteria`), with why. */
  notEmulated: string[];
}

const PSEUDO_PARTITION = 'aws';
const PSEUDO_URL_SUFFIX = 'amazonaws.com';
/** Lambda's defaults when the template leaves them out. */
const LAMBDA_DEFAULT_MEMORY_MB = 128;
const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;
const SQS_DEFAULT_BATCH_SIZE = 10;

/**
 * Reads a synthesized template. Throws {@link StackTemplateError} when the file is missing or is
 * not a CloudFormation template with `Resources`.
 *
 * @example
 * ```ts
 * const stack = readStackTemplate('cdk.out/Fanout.template.json');
 * Object.keys(stack.template.Resources); // ['FanoutDeadLetterQueueDAFF220E', ...]
 * ```
 */
export function readStackTemplate(path: string): StackTemplate {
  if (typeof path !== 'string' || path === '') {
    throw new StackTemplateError(
      `The template path must be the path of a synthesized template (cdk.out/<Stack>.template.json); got ${JSON.stringify(path)}.`,
      String(path),
    );
  }
  const absolute = resolve(path);
  if (!existsSync(absolute) || !statSync(absolute).isFile()) {
    throw new StackTemplateError(
      `No template at ${absolute}. Synthesize the stack first (npx cdk synth --quiet), then pass cdk.out/<Stack>.template.json.`,
      absolute,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(absolute, 'utf8'));
  } catch (cause) {
    throw new StackTemplateError(`The template ${absolute} is not JSON: ${(cause as Error).message}.`, absolute, cause);
  }
  const resources = (parsed as { Resources?: unknown } | null)?.Resources;
  if (resources === null || typeof resources !== 'object' || Array.isArray(resources)) {
    throw new StackTemplateError(
      `The template ${absolute} has no Resources object: it is not a CloudFormation template.`,
      absolute,
    );
  }
  for (const [logicalId, resource] of Object.entries(resources as Record<string, unknown>)) {
    if (typeof (resource as { Type?: unknown } | null)?.Type !== 'string') {
      throw new StackTemplateError(`Resources.${logicalId} of ${absolute} has no Type.`, absolute);
    }
  }
  const file = basename(absolute);
  return {
    path: absolute,
    assemblyDirectory: dirname(absolute),
    stackName: file.endsWith('.template.json') ? file.slice(0, -'.template.json'.length) : file.replace(/\.json$/, ''),
    template: parsed as CloudFormationTemplate,
  };
}

/**
 * Resolves the intrinsic functions in `value` against created resources and the pseudo
 * parameters. `where` names the property for error messages. Throws {@link StackTemplateError}
 * for a reference to a resource that was not created, an unknown attribute, or an intrinsic the
 * emulation does not evaluate (`Fn::If`, `Fn::ImportValue`, ...). `AWS::NoValue` resolves to undefined.
 *
 * @example
 * ```ts
 * resolveIntrinsics({ 'Fn::GetAtt': ['Queue', 'Arn'] }, scope, 'Resources.Map.Properties.EventSourceArn');
 * ```
 */
export function resolveIntrinsics(value: unknown, scope: ResolutionScope, where: string): unknown {
  if (Array.isArray(value)) {
    return value.map((item, i) => resolveIntrinsics(item, scope, `${where}[${i}]`)).filter((item) => item !== undefined);
  }
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) {
    return resolveFunction(keys[0]!, object[keys[0]!], scope, where);
  }
  const resolved: Record<string, unknown> = {};
  for (const key of keys) {
    const item = resolveIntrinsics(object[key], scope, `${where}.${key}`);
    if (item !== undefined) resolved[key] = item;
  }
  return resolved;
}

/** Like {@link resolveIntrinsics}, for a value that must come out as a string (or a number, stringified). */
export function resolveString(value: unknown, scope: ResolutionScope, where: string): string {
  const resolved = resolveIntrinsics(value, scope, where);
  if (typeof resolved === 'string') return resolved;
  if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
  throw new StackTemplateError(
    `${where} must resolve to a string; it resolves to ${JSON.stringify(resolved)}.`,
    scope.stack.path,
  );
}

/** The logical IDs a value refers to through `Ref`, `Fn::GetAtt` or `${...}` in `Fn::Sub`, however deep. */
export function referencedLogicalIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedLogicalIds);
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  if (typeof object.Ref === 'string') return object.Ref.startsWith('AWS::') ? [] : [object.Ref];
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return [getAtt[0]];
  if (typeof getAtt === 'string') return [getAtt.split('.')[0]!];
  const sub = object['Fn::Sub'];
  if (sub !== undefined) {
    const text = Array.isArray(sub) ? sub[0] : sub;
    const variables = Array.isArray(sub) && sub[1] && typeof sub[1] === 'object' ? (sub[1] as Record<string, unknown>) : {};
    const fromText =
      typeof text === 'string'
        ? [...text.matchAll(/\$\{([^!}][^}]*)\}/g)]
            .map((match) => match[1]!.split('.')[0]!)
            .filter((name) => !name.startsWith('AWS::') && !(name in variables))
        : [];
    return [...fromText, ...Object.values(variables).flatMap(referencedLogicalIds)];
  }
  return Object.values(object).flatMap(referencedLogicalIds);
}

function resolveFunction(name: string, argument: unknown, scope: ResolutionScope, where: string): unknown {
  const fail = (problem: string): never => {
    throw new StackTemplateError(`${where}: ${problem}`, scope.stack.path);
  };
  switch (name) {
    case 'Ref': {
      if (typeof argument !== 'string') return fail(`Ref must name a resource or parameter; got ${JSON.stringify(argument)}.`);
      return resolveRef(argument, scope, fail);
    }
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = Array.isArray(argument)
        ? [argument[0], resolveIntrinsics(argument[1], scope, where)]
        : typeof argument === 'string'
          ? [argument.slice(0, argument.indexOf('.')), argument.slice(argument.indexOf('.') + 1)]
          : [undefined, undefined];
      if (typeof logicalId !== 'string' || typeof attribute !== 'string') {
        return fail(`Fn::GetAtt must be [logicalId, attribute]; got ${JSON.stringify(argument)}.`);
      }
      return resolveGetAtt(logicalId, attribute, scope, fail);
    }
    case 'Fn::Join': {
      if (!Array.isArray(argument) || typeof argument[0] !== 'string' || argument.length !== 2) {
        return fail(`Fn::Join must be [separator, [values]]; got ${JSON.stringify(argument)}.`);
      }
      const parts = resolveIntrinsics(argument[1], scope, `${where}.Fn::Join`);
      if (!Array.isArray(parts)) return fail('Fn::Join must join a list.');
      return parts.map((part, i) => asText(part, `${where}.Fn::Join[${i}]`, fail)).join(argument[0]);
    }
    case 'Fn::Sub': {
      const text = Array.isArray(argument) ? argument[0] : argument;
      if (typeof text !== 'string')
        return fail(`Fn::Sub must be a string or [string, variables]; got ${JSON.stringify(argument)}.`);
      const variables = Array.isArray(argument) ? (argument[1] as Record<string, unknown> | undefined) : undefined;
      return text.replace(/\$\{([^}]*)\}/g, (_whole, inner: string) => {
        if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
        if (variables && inner in variables) {
          return asText(resolveIntrinsics(variables[inner], scope, `${where}.${inner}`), `${where}.${inner}`, fail);
        }
        const dot = inner.indexOf('.');
        const value =
          dot > 0 && !inner.startsWith('AWS::')
            ? resolveGetAtt(inner.slice(0, dot), inner.slice(dot + 1), scope, fail)
            : resolveRef(inner, scope, fail);
        return asText(value, `${where} \${${inner}}`, fail);
      });
    }
    case 'Fn::Select': {
      if (!Array.isArray(argument) || argument.length !== 2) return fail('Fn::Select must be [index, list].');
      const index = Number(resolveIntrinsics(argument[0], scope, where));
      const list = resolveIntrinsics(argument[1], scope, where);
      if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
        return fail(`Fn::Select index ${index} is outside the list ${JSON.stringify(list)}.`);
      }
      return list[index];
    }
    case 'Fn::Split': {
      if (!Array.isArray(argument) || typeof argument[0] !== 'string') return fail('Fn::Split must be [separator, string].');
      return asText(resolveIntrinsics(argument[1], scope, where), where, fail).split(argument[0]);
    }
    default:
      return fail(
        `the intrinsic function ${name} is not evaluated by the emulation (it evaluates Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and Fn::Split).`,
      );
  }
}

function resolveRef(name: string, scope: ResolutionScope, fail: (problem: string) => never): unknown {
  switch (name) {
    case 'AWS::Region':
      return scope.region;
    case 'AWS::AccountId':
      return scope.accountId;
    case 'AWS::Partition':
      return PSEUDO_PARTITION;
    case 'AWS::URLSuffix':
      return PSEUDO_URL_SUFFIX;
    case 'AWS::StackName':
      return scope.stack.stackName;
    case 'AWS::StackId':
      return `arn:${PSEUDO_PARTITION}:cloudformation:${scope.region}:${scope.accountId}:stack/${scope.stack.stackName}/emulated`;
    case 'AWS::NoValue':
      return undefined;
  }
  const created = scope.resources.get(name);
  if (created) return created.ref;
  const parameter = scope.stack.template.Parameters?.[name];
  if (parameter) {
    if (parameter.Default === undefined || String(parameter.Type ?? '').startsWith('AWS::SSM::')) {
      return fail(`Ref to the parameter '${name}', which has no plain default the emulation could use.`);
    }
    return parameter.Default;
  }
  const resource = scope.stack.template.Resources[name];
  if (resource) return fail(`Ref to '${name}' (${resource.Type}), a resource the emulation does not create.`);
  return fail(`Ref to '${name}', which is neither a resource nor a parameter of the template.`);
}

function resolveGetAtt(logicalId: string, attribute: string, scope: ResolutionScope, fail: (problem: string) => never): string {
  const created = scope.resources.get(logicalId);
  const resource = scope.stack.template.Resources[logicalId];
  if (!created) {
    return fail(
      resource
        ? `Fn::GetAtt of '${logicalId}' (${resource.Type}), a resource the emulation does not create.`
        : `Fn::GetAtt of '${logicalId}', which is not a resource of the template.`,
    );
  }
  const value = created.attributes[attribute];
  if (value === undefined) {
    return fail(
      `Fn::GetAtt ${logicalId}.${attribute}: the emulated ${resource?.Type ?? 'resource'} has the attributes ${Object.keys(created.attributes).join(', ')}.`,
    );
  }
  return value;
}

function asText(value: unknown, where: string, fail: (problem: string) => never): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return fail(`${where} must be a string to be joined or substituted; got ${JSON.stringify(value)}.`);
}

/**
 * Describes the `AWS::Lambda::Function` resources of the template, with their environment
 * resolved against the created resources and their code located in the cloud assembly.
 *
 * @example
 * ```ts
 * const [worker] = describeFunctions(scope, (logicalId) => `demo-${logicalId}`);
 * worker.codeDirectory; // '/project/cdk.out/asset.6ed2…'
 * ```
 */
export function describeFunctions(scope: ResolutionScope, nameOf: (logicalId: string) => string): LambdaFunctionSpec[] {
  const specs: LambdaFunctionSpec[] = [];
  for (const [logicalId, resource] of Object.entries(scope.stack.template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const where = `Resources.${logicalId}.Properties`;
    const properties = resource.Properties ?? {};
    const functionName =
      properties.FunctionName !== undefined
        ? resolveString(properties.FunctionName, scope, `${where}.FunctionName`)
        : nameOf(logicalId);
    const environment: Record<string, string> = {};
    const unresolvedEnvironment: Array<{ name: string; reason: string }> = [];
    const variables = (properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    for (const [name, value] of Object.entries(variables)) {
      try {
        environment[name] = resolveString(value, scope, `${where}.Environment.Variables.${name}`);
      } catch (error) {
        if (!(error instanceof StackTemplateError)) throw error;
        unresolvedEnvironment.push({ name, reason: error.message });
      }
    }
    const code = locateCode(scope.stack, resource);
    specs.push({
      logicalId,
      functionName,
      functionArn: `arn:${PSEUDO_PARTITION}:lambda:${scope.region}:${scope.accountId}:function:${functionName}`,
      handler: typeof properties.Handler === 'string' ? properties.Handler : '',
      runtime: typeof properties.Runtime === 'string' ? properties.Runtime : undefined,
      architectures: Array.isArray(properties.Architectures) ? properties.Architectures.map(String) : ['x86_64'],
      memorySize: positiveInteger(properties.MemorySize, LAMBDA_DEFAULT_MEMORY_MB, `${where}.MemorySize`, scope),
      timeoutSeconds: positiveInteger(properties.Timeout, LAMBDA_DEFAULT_TIMEOUT_SECONDS, `${where}.Timeout`, scope),
      environment,
      unresolvedEnvironment,
      reservedConcurrency:
        properties.ReservedConcurrentExecutions === undefined
          ? undefined
          : nonNegativeInteger(properties.ReservedConcurrentExecutions, 0, `${where}.ReservedConcurrentExecutions`, scope),
      ...code,
    });
  }
  return specs;
}

/** Where a function's code is: CDK's asset metadata names the asset directory in `cdk.out`. */
function locateCode(stack: StackTemplate, resource: TemplateResource): Pick<LambdaFunctionSpec, 'codeDirectory' | 'codeProblem'> {
  const properties = resource.Properties ?? {};
  if (properties.PackageType === 'Image') {
    return { codeDirectory: undefined, codeProblem: 'a container image function (PackageType Image) is not emulated' };
  }
  const assetPath = resource.Metadata?.['aws:asset:path'];
  if (typeof assetPath === 'string' && resource.Metadata?.['aws:asset:property'] === 'Code') {
    const directory = isAbsolute(assetPath) ? assetPath : join(stack.assemblyDirectory, assetPath);
    if (!existsSync(directory) || !statSync(directory).isDirectory()) {
      return { codeDirectory: undefined, codeProblem: `its asset directory ${directory} is missing (synthesize again)` };
    }
    return { codeDirectory: directory, codeProblem: undefined };
  }
  if ((properties.Code as { ZipFile?: unknown } | undefined)?.ZipFile !== undefined) {
    return { codeDirectory: undefined, codeProblem: 'inline code (Code.ZipFile) is not emulated' };
  }
  return { codeDirectory: undefined, codeProblem: 'the template has no aws:asset:path metadata for its code' };
}

/**
 * Describes the template's `AWS::Lambda::EventSourceMapping` resources that poll one of its SQS
 * queues, checked as Lambda's `CreateEventSourceMapping` checks them.
 *
 * @example
 * ```ts
 * const [mapping] = describeSqsEventSources(scope, functions, queueVisibility);
 * mapping.batchSize; // 10
 * ```
 */
export function describeSqsEventSources(
  scope: ResolutionScope,
  functions: readonly LambdaFunctionSpec[],
  visibilityTimeoutOf: (queueLogicalId: string) => number,
): SqsEventSourceSpec[] {
  const specs: SqsEventSourceSpec[] = [];
  const fail = (where: string, problem: string): never => {
    throw new StackTemplateError(`${where}: ${problem}`, scope.stack.path);
  };
  for (const [logicalId, resource] of Object.entries(scope.stack.template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const where = `Resources.${logicalId}.Properties`;
    const properties = resource.Properties ?? {};
    const [queueLogicalId] = referencedLogicalIds(properties.EventSourceArn);
    const queueResource = queueLogicalId === undefined ? undefined : scope.stack.template.Resources[queueLogicalId];
    if (queueResource?.Type !== 'AWS::SQS::Queue') continue; // a stream or another source: not emulated
    const queue = scope.resources.get(queueLogicalId!);
    if (!queue) fail(`${where}.EventSourceArn`, `the queue '${queueLogicalId}' was not created.`);
    const queueArn = resolveString(properties.EventSourceArn, scope, `${where}.EventSourceArn`);
    const [functionLogicalId] = referencedLogicalIds(properties.FunctionName);
    const target = functions.find(
      (fn) =>
        fn.logicalId === functionLogicalId ||
        fn.functionName === properties.FunctionName ||
        fn.functionArn === properties.FunctionName,
    );
    if (!target) fail(`${where}.FunctionName`, `${JSON.stringify(properties.FunctionName)} is not a function of the template.`);
    const batchSize = positiveInteger(properties.BatchSize, SQS_DEFAULT_BATCH_SIZE, `${where}.BatchSize`, scope);
    const window = nonNegativeInteger(
      properties.MaximumBatchingWindowInSeconds,
      0,
      `${where}.MaximumBatchingWindowInSeconds`,
      scope,
    );
    // As CreateEventSourceMapping checks them.
    if (batchSize > 10_000) fail(`${where}.BatchSize`, `must be from 1 to 10,000 for a standard queue; got ${batchSize}.`);
    if (batchSize > 10 && window < 1) {
      fail(
        `${where}.BatchSize`,
        `is ${batchSize}; above 10, MaximumBatchingWindowInSeconds must be at least 1 (Lambda refuses the mapping).`,
      );
    }
    if (window > 300) fail(`${where}.MaximumBatchingWindowInSeconds`, `must be from 0 to 300; got ${window}.`);
    const scaling = properties.ScalingConfig as { MaximumConcurrency?: unknown } | undefined;
    const maximumConcurrency =
      scaling?.MaximumConcurrency === undefined
        ? undefined
        : positiveInteger(scaling.MaximumConcurrency, 0, `${where}.ScalingConfig.MaximumConcurrency`, scope);
    if (maximumConcurrency !== undefined && (maximumConcurrency < 2 || maximumConcurrency > 1000)) {
      fail(`${where}.ScalingConfig.MaximumConcurrency`, `must be from 2 to 1,000; got ${maximumConcurrency}.`);
    }
    const visibility = visibilityTimeoutOf(queueLogicalId!);
    if (visibility < target!.timeoutSeconds) {
      fail(
        where,
        `the queue '${queueLogicalId}' has a visibility timeout of ${visibility} s, shorter than the function timeout of ` +
          `${target!.timeoutSeconds} s of '${target!.logicalId}': Lambda refuses such a mapping.`,
      );
    }
    const responseTypes = Array.isArray(properties.FunctionResponseTypes) ? properties.FunctionResponseTypes : [];
    const notEmulated: string[] = [];
    if (properties.FilterCriteria !== undefined)
      notEmulated.push('FilterCriteria: every message is delivered, none is filtered out');
    if (properties.ProvisionedPollerConfig !== undefined) notEmulated.push('ProvisionedPollerConfig: one poller per environment');
    specs.push({
      logicalId,
      functionLogicalId: target!.logicalId,
      queueLogicalId: queueLogicalId!,
      queueArn,
      queueUrl: queue!.ref,
      batchSize,
      maximumBatchingWindowSeconds: window,
      maximumConcurrency,
      reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
      enabled: properties.Enabled === undefined ? true : properties.Enabled === true || properties.Enabled === 'true',
      notEmulated,
    });
  }
  return specs;
}

function positiveInteger(value: unknown, fallback: number, where: string, scope: ResolutionScope): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new StackTemplateError(`${where} must be a whole number ≥ 1; got ${JSON.stringify(value)}.`, scope.stack.path);
  }
  return number;
}

function nonNegativeInteger(value: unknown, fallback: number, where: string, scope: ResolutionScope): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new StackTemplateError(`${where} must be a whole number ≥ 0; got ${JSON.stringify(value)}.`, scope.stack.path);
  }
  return number;
}
