using System.Text.Json;
using Tessera.Cli.Common;
using Tessera.Serving.Protocol;
using Tessera.Tensors;

namespace Tessera.Cli.LoadGen;

/// <summary>
/// One inference request, serialised once before the run and sent as is by every worker. JSON bodies carry the
/// tensors as flat "data" arrays; binary bodies follow Triton's binary-data extension: a JSON header whose inputs
/// give "binary_data_size", then the raw little-endian tensors in input order, with the header's length in the
/// Inference-Header-Content-Length HTTP header (outputs are asked for in binary too, so the server skips JSON).
/// A priority goes in the request's "parameters" object as "priority".
/// </summary>
internal sealed class RequestBody
{
    public const string HeaderLengthName = "Inference-Header-Content-Length";

    private RequestBody(byte[] bytes, int? headerLength, string contentType)
    {
        Bytes = bytes;
        HeaderLength = headerLength;
        ContentType = contentType;
    }

    public byte[] Bytes { get; }

    /// <summary>Length of the JSON header of a binary body; null for a JSON body.</summary>
    public int? HeaderLength { get; }

    public string ContentType { get; }

    public static RequestBody Create(IReadOnlyList<KeyValuePair<string, Tensor>> inputs, IReadOnlyList<string> outputs, bool binary, int? priority)
    {
        var header = new MemoryStream();
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            w.WriteStartArray("inputs");
            foreach (var (name, t) in inputs)
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteString("datatype", WireDataTypes.Name(t.DataType));
                if (binary)
                {
                    if (t.DataType == DataType.String)
                    {
                        throw new CliException($"input '{name}' is BYTES: --binary sends numeric tensors only; leave out --binary");
                    }

                    w.WriteStartObject("parameters");
                    w.WriteNumber("binary_data_size", t.ByteLength);
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteStartArray("data");
                    WriteData(w, t);
                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (binary && outputs.Count > 0)
            {
                w.WriteStartArray("outputs");
                foreach (string o in outputs)
                {
                    w.WriteStartObject();
                    w.WriteString("name", o);
                    w.WriteStartObject("parameters");
                    w.WriteBoolean("binary_data", true);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            if (priority is int p)
            {
                w.WriteStartObject("parameters");
                w.WriteNumber("priority", p);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        if (!binary)
        {
            return new RequestBody(header.ToArray(), null, "application/json");
        }

        int headerLength = (int)header.Length;
        foreach (var (_, t) in inputs) header.Write(t.Bytes);
        return new RequestBody(header.ToArray(), headerLength, "application/octet-stream");
    }

    private static void WriteData(Utf8JsonWriter w, Tensor t)
    {
        switch (t.DataType)
        {
            case DataType.Float32: foreach (float v in t.Span<float>()) w.WriteNumberValue(v); break;
            case DataType.Float64: foreach (double v in t.Span<double>()) w.WriteNumberValue(v); break;
            case DataType.Float16: foreach (Half v in t.Span<Half>()) w.WriteNumberValue((float)v); break;
            case DataType.BFloat16: foreach (BFloat16 v in t.Span<BFloat16>()) w.WriteNumberValue(v.ToSingle()); break;
            case DataType.Int64: foreach (long v in t.Span<long>()) w.WriteNumberValue(v); break;
            case DataType.Int32: foreach (int v in t.Span<int>()) w.WriteNumberValue(v); break;
            case DataType.Int16: foreach (short v in t.Span<short>()) w.WriteNumberValue(v); break;
            case DataType.Int8: foreach (sbyte v in t.Span<sbyte>()) w.WriteNumberValue(v); break;
            case DataType.UInt64: foreach (ulong v in t.Span<ulong>()) w.WriteNumberValue(v); break;
            case DataType.UInt32: foreach (uint v in t.Span<uint>()) w.WriteNumberValue(v); break;
            case DataType.UInt16: foreach (ushort v in t.Span<ushort>()) w.WriteNumberValue(v); break;
            case DataType.UInt8: foreach (byte v in t.Span<byte>()) w.WriteNumberValue(v); break;
            case DataType.Bool: foreach (byte v in t.Span<byte>()) w.WriteBooleanValue(v != 0); break;
            case DataType.String: foreach (string v in t.Strings) w.WriteStringValue(v); break;
            default: throw new CliException($"tensors of {DataTypes.Name(t.DataType)} cannot be sent to a KServe v2 server");
        }
    }
}
