// CpuSet and NodeSet: see id_set.h. This header exists so callers include the concept they use.
#pragma once

#include "common/id_set.h"
