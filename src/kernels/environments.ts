import { readFileSync } from 'node:fs';
import { ajvErrorsToFieldErrors, createAjv } from '../blocks/ajv.js';
import type { Environment, Environments } from '../generated/schema-types.js';
import environmentsSchema from '../../schemas/environments.json' with { type: 'json' };

export const DEFAULT_ENVIRONMENT = 'default';

export class EnvironmentsError extends Error {
  override name = 'EnvironmentsError';
}

/** The lesson environments (ENVIRONMENTS_FILE): name → kernelspec and KERNEL_* variables. */
export class EnvironmentRegistry {
  private constructor(private readonly environments: Record<string, Environment>) {}

  static load(file: string): EnvironmentRegistry {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new EnvironmentsError(`${file}: ${(err as Error).message}`);
    }
    const check = createAjv().compile<Environments>(environmentsSchema);
    if (!check(data)) {
      throw new EnvironmentsError(`${file}: ${ajvErrorsToFieldErrors(check.errors, '').map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`);
    }
    if (!data.environments[DEFAULT_ENVIRONMENT]) throw new EnvironmentsError(`${file}: there must be a "${DEFAULT_ENVIRONMENT}" environment`);
    return new EnvironmentRegistry(data.environments);
  }

  /** The environment by name, or undefined when this installation has no such environment. */
  get(name: string): Environment | undefined {
    return Object.hasOwn(this.environments, name) ? this.environments[name] : undefined;
  }

  names(): string[] {
    return Object.keys(this.environments);
  }
}
