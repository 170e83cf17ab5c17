"""Independent reader for Megatron MMIDIDX indexed datasets, used by the format tests.

Parses <prefix>.idx and <prefix>.bin with numpy the way Megatron-LM's
indexed_dataset.py does and prints one JSON object to stdout:
{"version", "dtype_code", "dtype", "sizes", "pointers", "doc_idx", "sequences"}.

Usage: python3 read_indexed.py PREFIX [MAX_SEQUENCES]
"""
import json
import struct
import sys

import numpy as np

DTYPES = {
    1: np.uint8,
    2: np.int8,
    3: np.int16,
    4: np.int32,
    5: np.int64,
    6: np.float64,
    7: np.float32,
    8: np.uint16,
}


def main() -> None:
    prefix = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
    with open(prefix + ".idx", "rb") as stream:
        magic = stream.read(9)
        if magic != b"MMIDIDX\x00\x00":
            raise SystemExit(f"{prefix}.idx: bad magic {magic!r}")
        (version,) = struct.unpack("<Q", stream.read(8))
        (dtype_code,) = struct.unpack("<B", stream.read(1))
        (count,) = struct.unpack("<Q", stream.read(8))
        (doc_count,) = struct.unpack("<Q", stream.read(8))
        offset = stream.tell()

    buffer = np.memmap(prefix + ".idx", mode="r", order="C")
    sizes = np.frombuffer(buffer, dtype=np.int32, count=count, offset=offset)
    pointers = np.frombuffer(buffer, dtype=np.int64, count=count, offset=offset + sizes.nbytes)
    doc_idx = np.frombuffer(buffer, dtype=np.int64, count=doc_count, offset=offset + sizes.nbytes + pointers.nbytes)

    dtype = DTYPES[dtype_code]
    data = np.memmap(prefix + ".bin", mode="r", order="C")
    shown_count = count if limit is None else min(limit, count)
    sequences = [
        np.frombuffer(data, dtype=dtype, count=int(sizes[i]), offset=int(pointers[i])).tolist()
        for i in range(shown_count)
    ]

    json.dump(
        {
            "version": version,
            "dtype_code": dtype_code,
            "dtype": np.dtype(dtype).name,
            "sizes": sizes.tolist(),
            "pointers": pointers.tolist(),
            "doc_idx": doc_idx.tolist(),
            "sequences": sequences,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
