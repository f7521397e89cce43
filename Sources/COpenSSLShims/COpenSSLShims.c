// Everything in this target is header-only; SwiftPM needs one translation unit to build it.
#include "COpenSSLShims.h"
