/**
 * Location of the public test-data snapshot that sits beside the checkout
 * (`<checkout>/../shared/data`), or `MIXWRIGHT_SHARED_DATA` when set. Tests that
 * read it skip with a message when it is absent.
 */
import * as path from "node:path"

export const SHARED_DATA = process.env.MIXWRIGHT_SHARED_DATA ?? path.resolve(import.meta.dirname, "..", "..", "..", "shared", "data")
