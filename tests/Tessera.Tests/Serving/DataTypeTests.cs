using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Json;
using Tessera.Serving.Repository;

namespace Tessera.Tests.Serving;

/// <summary>Every protocol datatype through an Identity model: JSON in / binary out, binary in / JSON out, binary both ways.</summary>
public sealed class DataTypeTests
{
    // Per wire datatype: the JSON data sent, and the little-endian bytes it must become (BYTES: length-prefixed).
    private static readonly (string Wire, string Json, byte[] Bytes)[] s_cases =
    [
        ("BOOL", "[true,false,true]", [1, 0, 1]),
        ("UINT8", "[0,255,7]", [0, 255, 7]),
        ("UINT16", "[0,65535,300]", Wire.Bytes(new ushort[] { 0, 65535, 300 })),
        ("UINT32", "[0,4294967295,70000]", Wire.Bytes(new uint[] { 0, 4294967295, 70000 })),
        ("UINT64", "[0,18446744073709551615,5]", Wire.Bytes(new ulong[] { 0, ulong.MaxValue, 5 })),
        ("INT8", "[-128,127,0]", Wire.Bytes(new sbyte[] { -128, 127, 0 })),
        ("INT16", "[-32768,32767,-1]", Wire.Bytes(new short[] { -32768, 32767, -1 })),
        ("INT32", "[-2147483648,2147483647,-5]", Wire.Bytes(new[] { int.MinValue, int.MaxValue, -5 })),
        ("INT64", "[-9223372036854775808,9223372036854775807,-5]", Wire.Bytes(new[] { long.MinValue, long.MaxValue, -5L })),
        ("FP16", "[0.5,-2,65504]", Wire.Bytes(new[] { (Half)0.5f, (Half)(-2f), (Half)65504f })),
        ("FP32", "[0.1,-3.4028235E+38,\"NaN\"]", Wire.Bytes(new[] { 0.1f, float.MinValue, float.NaN })),
        ("FP64", "[0.1,1e-300,\"-Infinity\"]", Wire.Bytes(new[] { 0.1, 1e-300, double.NegativeInfinity })),
        ("BYTES", "[\"a\",\"h\u00e9llo\",\"\"]", LengthPrefixed("a", "h\u00e9llo", "")),
    ];

    /// <summary>Per wire datatype, three values as little-endian bytes (BYTES: length-prefixed).</summary>
    internal static IEnumerable<(string Wire, byte[] Bytes)> Cases => s_cases.Select(c => (c.Wire, c.Bytes));

    [Fact]
    public async Task JsonInputsComeBackAsTheExactBinaryValues()
    {
        await using var server = await TestServer.StartAsync("echo", TestModels.Echo());
        string inputs = string.Join(",", s_cases.Select(c => $"{{\"name\":\"in_{c.Wire}\",\"shape\":[3],\"datatype\":\"{c.Wire}\",\"data\":{c.Json}}}"));
        using var response = await server.Client.PostAsync("/v2/models/echo/infer",
            new StringContent($"{{\"inputs\":[{inputs}],\"parameters\":{{\"binary_data_output\":true}}}}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (header, binary) = await Wire.ReadBinaryAsync(response);
        int at = 0;
        foreach (var output in header.GetProperty("outputs").EnumerateArray())
        {
            string wire = output.GetProperty("name").GetString()!["out_".Length..];
            var expected = s_cases.Single(c => c.Wire == wire);
            Assert.Equal(wire, output.GetProperty("datatype").GetString());
            int size = output.GetProperty("parameters").GetProperty("binary_data_size").GetInt32();
            Assert.Equal(expected.Bytes, binary[at..(at + size)]);
            at += size;
        }

        Assert.Equal(binary.Length, at);
    }

    [Fact]
    public async Task BinaryInputsComeBackAsEqualJsonValuesAndAsTheSameBytes()
    {
        await using var server = await TestServer.StartAsync("echo", TestModels.Echo());
        string inputs = string.Join(",", s_cases.Select(c => $"{{\"name\":\"in_{c.Wire}\",\"shape\":[3],\"datatype\":\"{c.Wire}\",\"parameters\":{{\"binary_data_size\":{c.Bytes.Length}}}}}"));
        byte[] binary = s_cases.SelectMany(c => c.Bytes).ToArray();

        using var asJson = await server.PostBinaryAsync("/v2/models/echo/infer", $"{{\"inputs\":[{inputs}]}}", binary);
        Assert.Equal(HttpStatusCode.OK, asJson.StatusCode);
        var body = JsonDocument.Parse(await asJson.Content.ReadAsStringAsync()).RootElement;
        foreach (var c in s_cases)
        {
            var sent = JsonDocument.Parse(c.Json).RootElement.EnumerateArray().ToArray();
            var got = Wire.Output(body, "out_" + c.Wire).GetProperty("data").EnumerateArray().ToArray();
            Assert.Equal(sent.Length, got.Length);
            for (int i = 0; i < sent.Length; i++)
            {
                Assert.True(SameValue(c.Wire, sent[i], got[i]), $"{c.Wire}[{i}]: sent {sent[i].GetRawText()}, got {got[i].GetRawText()}");
            }
        }

        using var asBinary = await server.PostBinaryAsync("/v2/models/echo/infer",
            $"{{\"inputs\":[{inputs}],\"parameters\":{{\"binary_data_output\":true}}}}", binary);
        var (_, back) = await Wire.ReadBinaryAsync(asBinary);
        Assert.Equal(binary, back);
    }

    [Fact]
    public async Task NestedAndFlatDataAreTheSameTensor()
    {
        await using var server = await TestServer.StartAsync("affine", TestModels.Affine());
        var (s1, flat) = await server.PostJsonAsync("/v2/models/affine/infer",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4,5,6,7,8]}]}");
        // "data" before "shape" and "datatype": the reader must not depend on the order of properties.
        var (s2, nested) = await server.PostJsonAsync("/v2/models/affine/infer",
            "{\"inputs\":[{\"data\":[[1,2,3,4],[5,6,7,8]],\"name\":\"x\",\"shape\":[2,4],\"datatype\":\"FP32\"}]}");
        Assert.Equal((200, 200), (s1, s2));
        Assert.Equal(Wire.Fp32Output(flat, "y").ToArray<float>(), Wire.Fp32Output(nested, "y").ToArray<float>());
    }

    private static bool SameValue(string wire, JsonElement sent, JsonElement got) => wire switch
    {
        "BOOL" => sent.GetBoolean() == got.GetBoolean(),
        "BYTES" => sent.GetString() == got.GetString(),
        "FP16" or "FP32" or "FP64" => AsDouble(sent).Equals(AsDouble(got)),
        _ => sent.GetRawText() == got.GetRawText(), // integers have one spelling
    };

    private static double AsDouble(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? e.GetString() switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, "-Infinity" => double.NegativeInfinity, var s => throw new FormatException(s) }
        : e.GetDouble();

    private static byte[] LengthPrefixed(params string[] values)
    {
        var bytes = new List<byte>();
        foreach (string v in values)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(v);
            var length = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)utf8.Length);
            bytes.AddRange(length);
            bytes.AddRange(utf8);
        }

        return [.. bytes];
    }
}
