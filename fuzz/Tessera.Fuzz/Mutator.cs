using System.Buffers.Binary;

namespace Tessera.Fuzz;

/// <summary>
/// Deterministic byte-level mutations of corpus entries, for the in-process driver: bit flips, boundary integers over
/// length fields, inserted and deleted ranges, duplicated ranges, truncation, splices of two entries and the target's
/// dictionary tokens. One to four stacked per input; the same seed gives the same inputs on every machine.
/// </summary>
internal sealed class Mutator
{
    private const int MaxLength = 1 << 20;

    private static readonly long[] s_boundaries =
        [0, 1, -1, 2, 7, 8, 15, 16, 127, 128, 255, 256, 4095, 4096, 32767, 32768, 65535, 65536, int.MaxValue, int.MinValue,
         uint.MaxValue, 1L << 30, 1L << 31, 1L << 32, long.MaxValue, long.MinValue, 0x7FFF_FFFF_FFFF_FFF0];

    private readonly Random _random;
    private readonly IReadOnlyList<byte[]> _dictionary;

    public Mutator(int seed, IReadOnlyList<byte[]> dictionary)
    {
        _random = new Random(seed);
        _dictionary = dictionary;
    }

    public byte[] Mutate(byte[] input, byte[] other)
    {
        var data = new List<byte>(input);
        int steps = 1 + _random.Next(4);
        for (int i = 0; i < steps; i++)
        {
            MutateOnce(data, other);
        }

        return data.Count > MaxLength ? data.GetRange(0, MaxLength).ToArray() : data.ToArray();
    }

    private void MutateOnce(List<byte> data, byte[] other)
    {
        int choice = _random.Next(data.Count == 0 ? 2 : 10);
        switch (choice)
        {
            case 0: // insert random bytes
                data.InsertRange(Position(data, inclusiveEnd: true), RandomBytes(1 + _random.Next(16)));
                break;
            case 1: // insert a dictionary token or a slice of another entry
                data.InsertRange(Position(data, inclusiveEnd: true), _dictionary.Count > 0 && _random.Next(2) == 0 ? _dictionary[_random.Next(_dictionary.Count)] : Slice(other));
                break;
            case 2:
                data[Position(data)] ^= (byte)(1 << _random.Next(8));
                break;
            case 3:
                data[Position(data)] = (byte)_random.Next(256);
                break;
            case 4: // a boundary integer over 1, 2, 4 or 8 bytes, where a length or a count may sit
                WriteBoundary(data);
                break;
            case 5:
                {
                    int at = Position(data);
                    data.RemoveRange(at, Math.Min(data.Count - at, 1 + _random.Next(Math.Min(64, data.Count))));
                    break;
                }

            case 6:
                {
                    int at = Position(data);
                    int length = Math.Min(data.Count - at, 1 + _random.Next(32));
                    data.InsertRange(Position(data, inclusiveEnd: true), data.GetRange(at, length));
                    break;
                }

            case 7:
                Truncate(data);
                break;
            case 8: // splice: our head, the other's tail
                {
                    int cut = Position(data, inclusiveEnd: true);
                    int from = other.Length == 0 ? 0 : _random.Next(other.Length);
                    data.RemoveRange(cut, data.Count - cut);
                    data.AddRange(other.AsSpan(from).ToArray());
                    break;
                }

            default:
                if (_dictionary.Count > 0)
                {
                    var token = _dictionary[_random.Next(_dictionary.Count)];
                    int at = Position(data);
                    for (int i = 0; i < token.Length && at + i < data.Count; i++) data[at + i] = token[i];
                }
                else
                {
                    WriteBoundary(data);
                }

                break;
        }
    }

    private void Truncate(List<byte> data)
    {
        int keep = _random.Next(data.Count);
        data.RemoveRange(keep, data.Count - keep);
    }

    private void WriteBoundary(List<byte> data)
    {
        int width = 1 << _random.Next(4);
        long value = s_boundaries[_random.Next(s_boundaries.Length)] + (_random.Next(3) - 1);
        Span<byte> bytes = stackalloc byte[8];
        if (_random.Next(4) == 0) BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        else BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        int at = Position(data);
        var slice = _random.Next(4) == 0 && width < 8 ? bytes[(8 - width)..] : bytes[..width];
        for (int i = 0; i < slice.Length && at + i < data.Count; i++) data[at + i] = slice[i];
    }

    private int Position(List<byte> data, bool inclusiveEnd = false) => _random.Next(data.Count + (inclusiveEnd ? 1 : 0));

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        _random.NextBytes(bytes);
        return bytes;
    }

    private byte[] Slice(byte[] other)
    {
        if (other.Length == 0) return RandomBytes(1 + _random.Next(8));
        int from = _random.Next(other.Length);
        return other.AsSpan(from, Math.Min(other.Length - from, 1 + _random.Next(64))).ToArray();
    }
}
