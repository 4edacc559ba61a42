/* Launch of a service over the collective tree (coll_launch.c; docs/COLLECTIVES.md "Launch"). */
#pragma once
#include "dime.h"

bool coll_launch_open(struct dime *d, uint64_t op, uint64_t size_crc, const uint8_t *block, uint16_t len);
bool coll_launch_stage(struct dime *d, uint64_t launch, uint64_t offset, const uint8_t *block, uint16_t len);
bool coll_launch_verify(struct dime *d, uint64_t launch);
bool coll_launch_start(struct dime *d, uint64_t launch, uint16_t event, uint32_t *events);
bool coll_launch_discard(struct dime *d, uint64_t launch);
