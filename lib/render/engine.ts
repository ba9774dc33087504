// Templates are LiquidJS files under templates/<product>/; a user's --templates folder is searched
// first, so any one of them can be overridden by its relative path. Variables and filters are strict:
// a typo in a template is an error naming the file and line, never an empty string in a config.
import { Liquid } from 'liquidjs';
import { fileURLToPath } from 'node:url';
import { DbtlsError, inputError } from '../errors.js';
import {
  cnfValue,
  cnfQuoted,
  iniValue,
  jdbcParam,
  jsString,
  libconfigString,
  maxscaleValue,
  phpString,
  propertiesValue,
  routerValue,
  sqliteString,
  sqlString,
  tomlString,
} from './escape.js';

/** The templates shipped with dbtls (two levels above dist/lib/render/). */
export const BUILTIN_TEMPLATES = fileURLToPath(new URL('../../../templates/', import.meta.url));

export interface Engine {
  render(template: string, context: object): Promise<string>;
}

export function createEngine(userDir?: string): Engine {
  const liquid = new Liquid({
    root: userDir ? [userDir, BUILTIN_TEMPLATES] : [BUILTIN_TEMPLATES],
    extname: '',
    strictVariables: true,
    strictFilters: true,
    // `{% if client.keystore %}` may test a field that is absent; output of an undefined variable still fails.
    lenientIf: true,
    greedy: false,
    cache: true,
  });
  liquid.registerFilter('toml', tomlString);
  liquid.registerFilter('sql', sqlString);
  liquid.registerFilter('sqlite', sqliteString);
  liquid.registerFilter('libconfig', libconfigString);
  liquid.registerFilter('ini', iniValue);
  liquid.registerFilter('cnf', cnfValue);
  liquid.registerFilter('cnf_quoted', cnfQuoted);
  liquid.registerFilter('maxscale', maxscaleValue);
  liquid.registerFilter('mysqlrouter', routerValue);
  liquid.registerFilter('properties', propertiesValue);
  liquid.registerFilter('jdbc', jdbcParam);
  liquid.registerFilter('js', jsString);
  liquid.registerFilter('php', phpString);
  liquid.registerFilter('toml_list', (v: unknown[]) => '[' + v.map(tomlString).join(', ') + ']');
  return {
    async render(template, context) {
      try {
        return await liquid.renderFile(template, context);
      } catch (e) {
        const err = e as Error & {
          token?: { file?: string; getPosition?: () => [number, number] };
          originalError?: Error;
        };
        if (err.originalError && err.originalError instanceof DbtlsError) {
          throw inputError(err.originalError.code, `${template}: ${err.originalError.message}`);
        }
        const pos = err.token?.getPosition?.();
        throw inputError(
          'template',
          `template ${err.token?.file ?? template}${pos ? `:${pos[0]}:${pos[1]}` : ''}: ${err.message.split('\n')[0]}`,
          { file: err.token?.file ?? template, line: pos?.[0], column: pos?.[1] },
        );
      }
    },
  };
}
