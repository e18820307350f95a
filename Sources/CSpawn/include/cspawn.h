#ifndef RFT_CSPAWN_H
#define RFT_CSPAWN_H
/* Placeholder: the vfork-style spawn shim lands with the sandbox issue. */
int rft_cspawn_version(void);
#endif
