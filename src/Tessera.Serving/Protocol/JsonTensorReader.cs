using System.Text.Json;
using Tessera.Tensors;

namespace Tessera.Serving.Protocol;

/// <summary>
/// Decodes a tensor's JSON "data": a flat array or nested arrays (any nesting is read in row-major order), with as
/// many values as the shape holds. Floats also accept "NaN", "Infinity" and "-Infinity" as strings, the spelling
/// <see cref="JsonTensorWriter"/> uses for them; BOOL also accepts 0 and 1.
/// </summary>
internal static class JsonTensorReader
{
    public static Tensor Read(ReadOnlySpan<byte> json, string name, DataType type, int[] shape)
    {
        int count = ShapeMath.ElementCount(shape);
        if (2L * count - 1 > json.Length)
        {
            // Each value takes a byte and a separator: too few bytes is refused before the shape's storage is allocated.
            throw ServingException.BadRequest($"input '{name}' has {json.Length} bytes of \"data\", too few for the {count} values of its shape {ShapeMath.Format(shape)}");
        }

        var tensor = Tensor.Allocate(type, shape);
        var reader = new Utf8JsonReader(json);
        int index = 0;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray:
                case JsonTokenType.EndArray:
                    continue;
                case JsonTokenType.Number:
                case JsonTokenType.String:
                case JsonTokenType.True:
                case JsonTokenType.False:
                    if (index == count)
                    {
                        throw ServingException.BadRequest($"input '{name}' has more data values than its shape {ShapeMath.Format(shape)} holds ({count})");
                    }

                    Store(ref reader, tensor, index++, name);
                    break;
                default:
                    throw ServingException.BadRequest($"input '{name}': data must be an array of values, found {reader.TokenType}");
            }
        }

        if (index != count)
        {
            throw ServingException.BadRequest($"input '{name}' has {index} data values, but its shape {ShapeMath.Format(shape)} holds {count}");
        }

        return tensor;
    }

    private static unsafe void Store(ref Utf8JsonReader reader, Tensor tensor, int i, string name)
    {
        byte* p = tensor.Pointer;
        switch (tensor.DataType)
        {
            case DataType.Bool:
                ((byte*)p)[i] = reader.TokenType switch
                {
                    JsonTokenType.True => 1,
                    JsonTokenType.False => 0,
                    JsonTokenType.Number when reader.TryGetInt32(out int b) && b is 0 or 1 => (byte)b,
                    _ => throw Bad(name, "a BOOL value (true, false, 0 or 1)", ref reader),
                };
                break;
            case DataType.UInt8: ((byte*)p)[i] = checked((byte)Integer(ref reader, name, byte.MinValue, byte.MaxValue)); break;
            case DataType.Int8: ((sbyte*)p)[i] = checked((sbyte)Integer(ref reader, name, sbyte.MinValue, sbyte.MaxValue)); break;
            case DataType.UInt16: ((ushort*)p)[i] = checked((ushort)Integer(ref reader, name, ushort.MinValue, ushort.MaxValue)); break;
            case DataType.Int16: ((short*)p)[i] = checked((short)Integer(ref reader, name, short.MinValue, short.MaxValue)); break;
            case DataType.UInt32: ((uint*)p)[i] = checked((uint)Integer(ref reader, name, uint.MinValue, uint.MaxValue)); break;
            case DataType.Int32: ((int*)p)[i] = checked((int)Integer(ref reader, name, int.MinValue, int.MaxValue)); break;
            case DataType.Int64: ((long*)p)[i] = Integer(ref reader, name, long.MinValue, long.MaxValue); break;
            case DataType.UInt64:
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetUInt64(out ulong u))
                {
                    throw Bad(name, "a UINT64 value", ref reader);
                }

                ((ulong*)p)[i] = u;
                break;
            case DataType.Float16: ((Half*)p)[i] = (Half)Float(ref reader, name, "FP16"); break;
            case DataType.BFloat16: ((BFloat16*)p)[i] = BFloat16.FromSingle((float)Float(ref reader, name, "BF16")); break;
            case DataType.Float32:
                ((float*)p)[i] = reader.TokenType == JsonTokenType.Number && reader.TryGetSingle(out float f) && float.IsFinite(f)
                    ? f
                    : (float)Float(ref reader, name, "FP32");
                break;
            case DataType.Float64: ((double*)p)[i] = Float(ref reader, name, "FP64"); break;
            case DataType.String:
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw Bad(name, "a BYTES value (a JSON string)", ref reader);
                }

                tensor.Strings[i] = reader.GetString()!;
                break;
            default:
                throw ServingException.BadRequest($"input '{name}': datatype {WireDataTypes.Name(tensor.DataType)} is not supported");
        }
    }

    private static long Integer(ref Utf8JsonReader reader, string name, long min, long max)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < min || v > max)
        {
            throw Bad(name, min == 0 ? $"an unsigned integer up to {max}" : $"an integer in [{min}, {max}]", ref reader);
        }

        return v;
    }

    private static double Float(ref Utf8JsonReader reader, string name, string type)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out double d))
        {
            return d;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            if (reader.ValueTextEquals("NaN"u8)) return double.NaN;
            if (reader.ValueTextEquals("Infinity"u8)) return double.PositiveInfinity;
            if (reader.ValueTextEquals("-Infinity"u8)) return double.NegativeInfinity;
        }

        throw Bad(name, $"a {type} value", ref reader);
    }

    private static ServingException Bad(string name, string expected, ref Utf8JsonReader reader)
    {
        string found = reader.TokenType switch
        {
            JsonTokenType.String => "\"" + reader.GetString() + "\"",
            JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
            JsonTokenType.True => "true",
            JsonTokenType.False => "false",
            _ => reader.TokenType.ToString(),
        };
        return ServingException.BadRequest($"input '{name}': {found} is not {expected}");
    }
}
