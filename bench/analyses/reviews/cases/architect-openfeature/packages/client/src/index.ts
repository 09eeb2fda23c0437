export * from './client';
export * from './no-op-provider';
export * from './open-feature';
export * from './types';
export * from '@openfeature/shared';