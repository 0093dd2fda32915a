// Dropping the pages of a read-only file mapping from this process once their
// bytes have been copied or converted: the mapping stays valid (a later read
// faults the page back in from the file), but the process's resident memory
// no longer counts the weights twice.
#pragma once

#include <cstddef>

namespace gemma3n {

// MADV_DONTNEED on the whole pages inside [data, data + bytes); partial
// pages at either end stay (they may hold a neighbouring tensor).
void ReleaseMappedPages(const void* data, size_t bytes);

}  // namespace gemma3n
