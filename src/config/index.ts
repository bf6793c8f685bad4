/** Config: load onehand.yaml into a validated OnehandConfig, or list every problem. */
export { loadConfigFile, resolveConfigPath } from './load';
export { parseConfig, validateConfig, readShift, type ValidateOptions } from './validate';
export { formatProblems, formatPath, DOCUMENT_PATH, type ConfigProblem, type PathSegment } from './problems';
export { DEFAULT_CONFIG_PATH, type ConfigResult, type IntegrationConfig, type OnehandConfig } from './types';
export { configSchema, isSecretKey, SECRET_KEYS } from './schema';
