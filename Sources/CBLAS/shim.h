#ifndef RFT_CBLAS_SHIM_H
#define RFT_CBLAS_SHIM_H
#include <cblas.h>
/* OpenBLAS threading control: rft runs BLAS on one thread (see docs). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
#endif
