/**
 * Loads OpenCV (the WASM build from @techstark/opencv-js) once.
 *
 * The module object is a thenable whose promise never settles, so it must
 * not be awaited; we wait for its `onRuntimeInitialized` callback instead.
 */
import { createRequire } from 'node:module';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OpenCv = any;

let loading: Promise<OpenCv> | undefined;

export function loadOpenCv(): Promise<OpenCv> {
  loading ??= new Promise<OpenCv>((resolve, reject) => {
    const require = createRequire(import.meta.url);
    let cv: OpenCv;
    try {
      cv = require('@techstark/opencv-js');
    } catch (err) {
      reject(new Error(`OpenCV (@techstark/opencv-js) cannot be loaded: ${(err as Error).message}`));
      return;
    }
    const ready = (): void => {
      // strip the never-settling `then` so the module can be passed through promises safely
      if (typeof cv.then === 'function') delete cv.then;
      resolve(cv);
    };
    if (typeof cv.Mat === 'function') ready();
    else cv.onRuntimeInitialized = ready;
  });
  return loading;
}
