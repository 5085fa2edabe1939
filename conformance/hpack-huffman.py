#!/usr/bin/python3
"""Huffman-coded HPACK from an encoder nobody here wrote: Debian's python3-hpack.

    hpack-huffman.py --seed N --count N

Prints one JSON object: "strings", random byte strings (every octet 0..255, lengths 0..96) with their Huffman
coding (RFC 7541 §5.2) as hex, and "blocks", answer header blocks as a server announcing a 0-byte dynamic table
would send them with Huffman coding on (:status, grpc-status and other fields with random values), each with the
:status and grpc-status it carries.
"""
import argparse, json, random, string

import hpack
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, required=True)
parser.add_argument("--count", type=int, required=True)
args = parser.parse_args()
rng = random.Random(args.seed)
huffman = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)

strings = []
for _ in range(args.count):
    plain = bytes(rng.randrange(256) for _ in range(rng.randrange(97)))
    strings.append({"plain": plain.hex(), "coded": huffman.encode(plain).hex()})

text = string.ascii_letters + string.digits + string.punctuation + " "
blocks = []
for _ in range(args.count):
    encoder = hpack.Encoder()
    encoder.header_table_size = 0  # what our client announces: the block starts with a table size update to 0
    status = rng.choice(["200", "204", "302", "400", "404", "429", "500", "503"])
    grpc_status = str(rng.randrange(17))
    fields = [(":status", status), ("content-type", "application/grpc"),
              ("x-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randrange(1, 20))),
               "".join(rng.choice(text) for _ in range(rng.randrange(60)))),
              ("grpc-status", grpc_status),
              ("grpc-message", "".join(rng.choice(text) for _ in range(rng.randrange(400))))]
    rng.shuffle(fields)
    blocks.append({"block": encoder.encode(fields, huffman=True).hex(), "status": int(status), "grpc_status": grpc_status})

print(json.dumps({"strings": strings, "blocks": blocks}))
