using System.Buffers.Binary;
using System.Text;
using Tessera.Serving.Protocol;

namespace Tessera.Fuzz.Targets;

/// <summary>
/// The REST inference request reader: the Inference-Header-Content-Length value (the input's first line; an empty
/// line means no header) and the body after it, JSON with binary tensor data behind it, as POST .../infer reads them.
/// </summary>
internal sealed class RestRequestTarget : FuzzTarget
{
    public override string Name => "rest";

    public override string Description => "POST /v2/models/{m}/infer body and Inference-Header-Content-Length (InferRequestReader, JsonTensorReader, BinaryTensorReader)";

    public override IReadOnlyList<byte[]> Dictionary { get; } = Tokens(
        "\"inputs\"", "\"outputs\"", "\"name\"", "\"datatype\"", "\"shape\"", "\"data\"", "\"parameters\"", "\"binary_data_size\"",
        "\"binary_data\"", "\"binary_data_output\"", "\"priority\"", "\"timeout\"", "\"id\"", "\"FP32\"", "\"BYTES\"", "\"BOOL\"",
        "\"FP16\"", "\"INT64\"", "\"UINT64\"", "\"NaN\"", "\"-Infinity\"", "[", "]", "{", "}", ",", ":", "[[", "]]", "-1", "0",
        "1e309", "2147483648", "18446744073709551616", "[268435455]", "[65536, 65536]", "true", "null", "\"\\u0000\"");

    public override void Parse(ReadOnlySpan<byte> input)
    {
        int newline = input.IndexOf((byte)'\n');
        string? header = newline <= 0 ? null : Encoding.Latin1.GetString(input[..newline]);
        var body = input[(newline + 1)..];
        var pinned = PinnedBytes.Copy(body);
        int jsonLength = InferRequestReader.JsonLength(header, body.Length);
        InferRequestReader.Read(pinned.Span[..jsonLength], pinned.Slice(jsonLength, body.Length - jsonLength));
    }

    public override bool IsRefusal(Exception e) => e is ServingException { StatusCode: 400 };

    public override IEnumerable<byte[]> Seeds(SeedFiles cache)
    {
        yield return Json("""{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2,3],[4.5,"NaN","-Infinity"]]}]}""");
        yield return Json("""{"id":"7","model_name":"m","parameters":{"priority":1,"timeout":5000,"binary_data_output":true},"inputs":[{"name":"a","shape":[4],"datatype":"INT64","data":[1,-2,9223372036854775807,0]},{"name":"b","shape":[2],"datatype":"BOOL","data":[true,0]}],"outputs":[{"name":"y","parameters":{"binary_data":false}}]}""");
        yield return Json("""{"inputs":[{"data":["hello","wörld"],"name":"s","datatype":"BYTES","shape":[2]},{"name":"u","shape":[1,1,3],"datatype":"UINT8","data":[0,128,255]},{"name":"h","shape":[2],"datatype":"FP16","data":[0.5,65504]},{"name":"bf","shape":[1],"datatype":"BF16","data":[1.5]},{"name":"d","shape":[],"datatype":"FP64","data":[1e-300]},{"name":"q","shape":[1],"datatype":"UINT64","data":[18446744073709551615]},{"name":"i8","shape":[2],"datatype":"INT8","data":[-128,127]},{"name":"i16","shape":[1],"datatype":"INT16","data":[-300]},{"name":"u16","shape":[1],"datatype":"UINT16","data":[65535]},{"name":"i32","shape":[1],"datatype":"INT32","data":[-5]},{"name":"u32","shape":[1],"datatype":"UINT32","data":[5]}]}""");
        yield return Json("""{"inputs":[{"name":"e","shape":[0,4],"datatype":"FP32","data":[]}]}""");

        // Binary-data extension: FP32 [2,2], then BYTES [2] as length-prefixed elements, then INT32 [3].
        var binary = new List<byte>();
        for (int i = 0; i < 4; i++) binary.AddRange(BitConverter.GetBytes(i * 1.25f));
        foreach (string s in new[] { "ab", "" })
        {
            binary.AddRange(LittleEndian((uint)s.Length));
            binary.AddRange(Encoding.UTF8.GetBytes(s));
        }

        for (int i = 0; i < 3; i++) binary.AddRange(LittleEndian((uint)(i - 1)));
        yield return WithBinary("""{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","parameters":{"binary_data_size":16}},{"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":10}},{"name":"i","shape":[3],"datatype":"INT32","parameters":{"binary_data_size":12}}],"outputs":[{"name":"y","parameters":{"binary_data":true}}]}""", binary.ToArray());
        yield return WithBinary("""{"inputs":[{"name":"b","shape":[3],"datatype":"BOOL","parameters":{"binary_data_size":3}}]}""", [0, 1, 1]);
    }

    private static byte[] Json(string json) => Encoding.UTF8.GetBytes("\n" + json);

    private static byte[] WithBinary(string json, byte[] binary)
    {
        byte[] head = Encoding.UTF8.GetBytes(json);
        return [.. Encoding.ASCII.GetBytes($"{head.Length}\n"), .. head, .. binary];
    }

    private static byte[] LittleEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }
}
