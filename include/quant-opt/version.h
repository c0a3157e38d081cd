#ifndef QUANT_OPT_VERSION_H
#define QUANT_OPT_VERSION_H
#define QO_VERSION "0.1.0"
#endif
