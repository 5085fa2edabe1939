using System.Globalization;
using System.Text;
using System.Text.Json;
using Tessera.Tensors;

namespace Tessera.Serving.Protocol;

/// <summary>
/// Parses an inference request body: the JSON object (<paramref name="json"/>, the first
/// Inference-Header-Content-Length bytes, or the whole body) and the binary tensor data after it, assigned in the
/// order inputs with "binary_data_size" appear. A forward-only <see cref="Utf8JsonReader"/> pass; an input's "data"
/// is only located on that pass (it may come before "datatype" and "shape") and decoded once the input is complete.
/// </summary>
internal static class InferRequestReader
{
    /// <summary>Largest "timeout" (about 11.6 days), within what a cancellation timer can wait.</summary>
    public const long MaxTimeoutMicroseconds = 1_000_000_000_000;

    /// <summary>HTTP header giving the length of the JSON part of a body whose binary tensor data follows it.</summary>
    public const string HeaderLengthHeader = "Inference-Header-Content-Length";

    /// <summary>The JSON part's length: the whole body without <see cref="HeaderLengthHeader"/>, else its value, checked.</summary>
    public static int JsonLength(string? headerValue, int bodyLength)
    {
        if (headerValue is null)
        {
            return bodyLength;
        }

        return int.TryParse(headerValue, NumberStyles.None, CultureInfo.InvariantCulture, out int length) && length <= bodyLength
            ? length
            : throw ServingException.BadRequest($"{HeaderLengthHeader} '{headerValue}' must be a byte count no larger than the body ({bodyLength} bytes)");
    }

    /// <param name="binary">The bytes after the JSON; binary inputs are made over them without a copy.</param>
    public static InferenceRequest Read(ReadOnlySpan<byte> json, PinnedBytes binary)
    {
        var request = new InferenceRequest();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        int binaryOffset = 0;
        try
        {
            Expect(ref reader, JsonTokenType.StartObject, "the request body must be a JSON object");
            bool sawInputs = false;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    Next(ref reader);
                    request.Id = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw ServingException.BadRequest("\"id\" must be a string");
                }
                else if (reader.ValueTextEquals("parameters"u8))
                {
                    ReadRequestParameters(ref reader, request);
                }
                else if (reader.ValueTextEquals("inputs"u8))
                {
                    Expect(ref reader, JsonTokenType.StartArray, "\"inputs\" must be an array");
                    while (Next(ref reader) != JsonTokenType.EndArray)
                    {
                        ReadInput(json, ref reader, binary, ref binaryOffset, request);
                    }

                    sawInputs = true;
                }
                else if (reader.ValueTextEquals("outputs"u8))
                {
                    Expect(ref reader, JsonTokenType.StartArray, "\"outputs\" must be an array");
                    while (Next(ref reader) != JsonTokenType.EndArray)
                    {
                        request.Outputs.Add(ReadOutput(ref reader));
                    }
                }
                else
                {
                    Next(ref reader);
                    reader.Skip(); // "model_name", "model_version" and anything else a client adds
                }
            }

            if (reader.Read())
            {
                throw ServingException.BadRequest("unexpected content after the request's JSON object");
            }

            if (!sawInputs)
            {
                throw ServingException.BadRequest("the request has no \"inputs\"");
            }
        }
        catch (JsonException e)
        {
            throw ServingException.BadRequest($"malformed JSON: {e.Message}");
        }
        catch (InvalidOperationException e) when (e.InnerException is DecoderFallbackException)
        {
            // Utf8JsonReader checks a string's UTF-8 only when the string is read.
            throw ServingException.BadRequest("malformed JSON: a string is not valid UTF-8");
        }

        if (binaryOffset != binary.Length)
        {
            throw ServingException.BadRequest($"the body holds {binary.Length} bytes of binary data, but the inputs' binary_data_size add up to {binaryOffset}");
        }

        return request;
    }

    private static void ReadRequestParameters(ref Utf8JsonReader reader, InferenceRequest request)
    {
        Expect(ref reader, JsonTokenType.StartObject, "\"parameters\" must be an object");
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("priority"u8))
            {
                request.Priority = (int)ReadInteger(ref reader, "priority", 0, int.MaxValue);
            }
            else if (reader.ValueTextEquals("timeout"u8))
            {
                request.TimeoutMicroseconds = ReadInteger(ref reader, "timeout", 0, MaxTimeoutMicroseconds);
            }
            else if (reader.ValueTextEquals("binary_data_output"u8))
            {
                request.BinaryDataOutput = ReadBool(ref reader, "binary_data_output");
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }
    }

    private static void ReadInput(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, PinnedBytes binary, ref int binaryOffset, InferenceRequest request)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw ServingException.BadRequest("each entry of \"inputs\" must be an object");
        }

        string? name = null;
        string? datatype = null;
        int[]? shape = null;
        long binarySize = -1;
        int dataStart = -1, dataEnd = -1;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                name = ReadString(ref reader, "input \"name\"");
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                datatype = ReadString(ref reader, "input \"datatype\"");
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                shape = ReadShape(ref reader);
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                Expect(ref reader, JsonTokenType.StartObject, "input \"parameters\" must be an object");
                while (Next(ref reader) == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("binary_data_size"u8))
                    {
                        binarySize = ReadInteger(ref reader, "binary_data_size", 0, int.MaxValue);
                    }
                    else
                    {
                        Next(ref reader);
                        reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                Next(ref reader);
                dataStart = (int)reader.TokenStartIndex;
                reader.Skip();
                dataEnd = (int)reader.BytesConsumed;
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }

        if (name is null) throw ServingException.BadRequest("an input has no \"name\"");
        if (datatype is null) throw ServingException.BadRequest($"input '{name}' has no \"datatype\"");
        if (shape is null) throw ServingException.BadRequest($"input '{name}' has no \"shape\"");
        if (!WireDataTypes.TryParse(datatype, out var type))
        {
            throw ServingException.BadRequest($"input '{name}' has unknown datatype '{datatype}' (expected BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64 or BYTES)");
        }

        if (request.Inputs.ContainsKey(name))
        {
            throw ServingException.BadRequest($"input '{name}' is given twice");
        }

        Tensor tensor;
        if (binarySize >= 0)
        {
            if (dataStart >= 0) throw ServingException.BadRequest($"input '{name}' has both \"data\" and binary_data_size");
            if (binarySize > binary.Length - binaryOffset)
            {
                throw ServingException.BadRequest($"input '{name}' has binary_data_size {binarySize}, but only {binary.Length - binaryOffset} bytes of binary data are left in the body");
            }

            tensor = BinaryTensorReader.Read(binary.Slice(binaryOffset, (int)binarySize), name, type, shape);
            binaryOffset += (int)binarySize;
        }
        else
        {
            if (dataStart < 0) throw ServingException.BadRequest($"input '{name}' has neither \"data\" nor binary_data_size");
            tensor = JsonTensorReader.Read(json[dataStart..dataEnd], name, type, shape);
        }

        request.Inputs.Add(name, tensor);
    }

    private static RequestedOutput ReadOutput(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw ServingException.BadRequest("each entry of \"outputs\" must be an object");
        }

        string? name = null;
        bool? binary = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                name = ReadString(ref reader, "output \"name\"");
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                Expect(ref reader, JsonTokenType.StartObject, "output \"parameters\" must be an object");
                while (Next(ref reader) == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("binary_data"u8))
                    {
                        binary = ReadBool(ref reader, "binary_data");
                    }
                    else
                    {
                        Next(ref reader);
                        reader.Skip();
                    }
                }
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }

        return new RequestedOutput(name ?? throw ServingException.BadRequest("an entry of \"outputs\" has no \"name\""), binary);
    }

    private static int[] ReadShape(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray, "\"shape\" must be an array of integers");
        Span<long> dims = stackalloc long[WireShape.MaxRank + 1];
        int rank = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long d) || d < 0)
            {
                throw ServingException.BadRequest("\"shape\" must hold non-negative integers");
            }

            if (rank == dims.Length) throw ServingException.BadRequest($"a shape may have at most {WireShape.MaxRank} dimensions");
            dims[rank++] = d;
        }

        return WireShape.Check(dims[..rank]);
    }

    private static string ReadString(ref Utf8JsonReader reader, string what)
    {
        Next(ref reader);
        return reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw ServingException.BadRequest($"{what} must be a string");
    }

    private static long ReadInteger(ref Utf8JsonReader reader, string what, long min, long max)
    {
        Next(ref reader);
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < min || v > max)
        {
            throw ServingException.BadRequest($"parameter \"{what}\" must be an integer in [{min}, {max}]");
        }

        return v;
    }

    private static bool ReadBool(ref Utf8JsonReader reader, string what) => Next(ref reader) switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw ServingException.BadRequest($"parameter \"{what}\" must be true or false"),
    };

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string message)
    {
        if (Next(ref reader) != type)
        {
            throw ServingException.BadRequest(message);
        }
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw ServingException.BadRequest("malformed JSON: the request body ends too early");
        }

        return reader.TokenType;
    }
}
