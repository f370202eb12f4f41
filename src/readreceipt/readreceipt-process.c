/* Copyright (c) dovecot-readreceipt authors */

#include "lib.h"
