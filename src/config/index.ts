/** The config module's public face: load, check and the types. */
export {
  analyzeConfig,
  checkConfig,
  loadConfig,
  parseConfig,
  type ConfigCheck,
  type ConfigOptions,
} from './load-config.js';
export { ConfigError, formatIssue, type ConfigIssue } from './issues.js';
export * from './types.js';
