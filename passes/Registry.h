/* Lookup and creation of quant-opt passes from the pass table. */
#ifndef QO_PASSES_REGISTRY_H
#define QO_PASSES_REGISTRY_H

#include "passes/PassDef.h"
#include "quant-opt/compiler.h"

#include <stddef.h>

/* The pass whose argument is name[0..len), or NULL. */
const qoPassDef *qoLookupPass(const char *name, size_t len);

/* Creates an external pass for `def` with options "k=v k2=v2". On a bad
 * option returns a null pass and a malloc'd *error. */
MlirPass qoCreatePass(const qoPassDef *def, const char *opts, size_t optsLen,
                      char **error);

#endif
