using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Tessera.Tensors;

namespace Tessera.Tests.Serving;

/// <summary>Builds request JSON and reads responses with System.Text.Json's own serializer, independently of the server's code.</summary>
internal static class Wire
{
    public static string Fp32Input(string name, Tensor t) =>
        $"{{\"name\":\"{name}\",\"shape\":{JsonSerializer.Serialize(t.Shape)},\"datatype\":\"FP32\",\"data\":{JsonSerializer.Serialize(t.ToArray<float>())}}}";

    public static string Int64Input(string name, Tensor t) =>
        $"{{\"name\":\"{name}\",\"shape\":{JsonSerializer.Serialize(t.Shape)},\"datatype\":\"INT64\",\"data\":{JsonSerializer.Serialize(t.ToArray<long>())}}}";

    public static string Request(params string[] inputs) => $"{{\"inputs\":[{string.Join(",", inputs)}]}}";

    public static JsonElement Output(JsonElement response, string name) =>
        response.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == name);

    public static int[] Shape(JsonElement output) => output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();

    public static Tensor Fp32Output(JsonElement response, string name)
    {
        var o = Output(response, name);
        Assert.Equal("FP32", o.GetProperty("datatype").GetString());
        return Tensor.FromArray(o.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray(), Shape(o));
    }

    /// <summary>Splits a binary-data response into its JSON header and the bytes after it.</summary>
    public static async Task<(JsonElement Header, byte[] Binary)> ReadBinaryAsync(HttpResponseMessage response)
    {
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        int headerLength = response.Headers.TryGetValues("Inference-Header-Content-Length", out var values)
            ? int.Parse(values.Single(), CultureInfo.InvariantCulture)
            : body.Length;
        var header = JsonDocument.Parse(body.AsMemory(0, headerLength)).RootElement.Clone();
        return (header, body[headerLength..]);
    }

    public static byte[] Bytes<T>(T[] values) where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    public static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
