export { ACCEL_DIR_ENV, accelDir, defaultAccelDir, importOptional, requireOptional, resolveOptional } from './modules';
export { classifyFailure } from './classify';
export type { AccelFailure, AccelFailureKind } from './classify';
export { ACCEL_DOWNLOAD_MB, ACCEL_TARGETS, AccelInstallError, TFJS_VERSION, accelPackages, installAccel, verifyAccel } from './install';
export type { AccelTarget, InstallOptions, InstallResult, Verification } from './install';
export { queryNvidiaGpus } from './gpuInfo';
export type { NvidiaGpu } from './gpuInfo';
