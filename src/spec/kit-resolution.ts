// Module resolution hook, run on Node's hooks thread: a user's file that imports 'pgconform' from a folder where
// it is not installed (a vendor's schema folder, init's output) gets the kit that is loading it.
import type { InitializeHook, ResolveHook } from 'node:module';

let kitUrl = '';

/** Receives the URL of a file inside the running kit. */
export const initialize: InitializeHook<{ kitUrl: string }> = (data) => {
  kitUrl = data.kitUrl;
};

/** 'pgconform' and 'pgconform/…' that do not resolve from the importing file resolve from the kit itself (its self-reference). */
export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (!/^pgconform(\/|$)/.test(specifier) || (error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return nextResolve(specifier, { ...context, parentURL: kitUrl });
  }
};
