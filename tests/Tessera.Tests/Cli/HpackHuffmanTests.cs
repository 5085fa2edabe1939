using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tessera.Cli.LoadGen;
using Tessera.Serving.Http2;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>
/// loadgen's HPACK decoder on Huffman-coded strings (RFC 7541 §5.2): the RFC's own examples (Appendix C.4 and C.6),
/// and what Debian's python3-hpack encodes (conformance/hpack-huffman.py).
/// </summary>
public sealed class HpackHuffmanTests
{
    private const string Python = "/usr/bin/python3";

    [Theory]
    [InlineData("f1e3c2e5f23a6ba0ab90f4ff", "www.example.com")] // C.4.1
    [InlineData("a8eb10649cbf", "no-cache")] // C.4.2
    [InlineData("25a849e95ba97d7f", "custom-key")] // C.4.3
    [InlineData("25a849e95bb8e8b4bf", "custom-value")] // C.4.3
    [InlineData("6402", "302")] // C.6.1
    [InlineData("aec3771a4b", "private")] // C.6.1
    [InlineData("d07abe941054d444a8200595040b8166e082a62d1bff", "Mon, 21 Oct 2013 20:13:21 GMT")] // C.6.1
    [InlineData("9d29ad171863c78f0b97c8e9ae82ae43d3", "https://www.example.com")] // C.6.1
    [InlineData("640eff", "307")] // C.6.2
    [InlineData("", "")]
    public void RfcExampleStringsDecode(string coded, string plain)
    {
        Assert.Equal(plain, Encoding.ASCII.GetString(Decode(Convert.FromHexString(coded))));
    }

    [Fact]
    public void RfcFirstResponseBlockGivesItsStatus()
    {
        // C.6.1: :status 302 and three more fields, every string Huffman-coded, names from the static table.
        var block = Convert.FromHexString(
            "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3");
        Assert.Equal((302, (string?)null), HpackFields.Read(block));
        Assert.Equal(0, SteadyAllocation.LeastBytesPerRun(() => HpackFields.Read(block)));
    }

    [Theory]
    [InlineData("fffffffc", "EOS inside")] // EOS (30 one bits) and two zero bits of padding
    [InlineData("1fff", "longer than 7 bits")] // 'a' (00011), then 11 one bits
    [InlineData("ff", "longer than 7 bits")] // no symbol at all, 8 one bits
    [InlineData("18", "not all ones")] // 'a', then 000
    [InlineData("1e", "not all ones")] // 'a', then 110
    public void MalformedStringsAreProtocolErrors(string coded, string message)
    {
        var error = Assert.Throws<HpackException>(() => Decode(Convert.FromHexString(coded)));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);

        // In a block too: a literal field with a new name, grpc-status, both Huffman-coded; "07" is "0" well coded.
        const string field = "00" + "88" + "9acac8b21234da8f";
        Assert.Equal("0", HpackFields.Read(Convert.FromHexString(field + "81" + "07")).GrpcStatus);
        var block = Convert.FromHexString(field + (0x80 | (coded.Length / 2)).ToString("x2", CultureInfo.InvariantCulture) + coded);
        error = Assert.Throws<HpackException>(() => HpackFields.Read(block));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WhatDebiansHpackEncodesDecodes()
    {
        Assert.True(File.Exists(Python) && Run("-c \"import hpack\"", out _) == 0,
            $"Debian's python3-hpack is needed: run {TestPaths.PrepareCommand}");
        string script = Path.Combine(TestPaths.RepositoryRoot, "conformance", "hpack-huffman.py");
        Assert.True(Run($"{script} --seed 17 --count 200", out string output) == 0, output);
        var reference = JsonDocument.Parse(output).RootElement;

        int strings = 0;
        foreach (var pair in reference.GetProperty("strings").EnumerateArray())
        {
            var plain = Convert.FromHexString(pair.GetProperty("plain").GetString()!);
            Assert.Equal(plain, Decode(Convert.FromHexString(pair.GetProperty("coded").GetString()!)));
            strings++;
        }

        int blocks = 0;
        foreach (var expected in reference.GetProperty("blocks").EnumerateArray())
        {
            var (httpStatus, grpcStatus) = HpackFields.Read(Convert.FromHexString(expected.GetProperty("block").GetString()!));
            Assert.Equal(expected.GetProperty("status").GetInt32(), httpStatus);
            Assert.Equal(expected.GetProperty("grpc_status").GetString(), grpcStatus);
            blocks++;
        }

        Assert.Equal((200, 200), (strings, blocks));
    }

    [Fact]
    public void DecodingAllocatesNothing()
    {
        var coded = Convert.FromHexString("d07abe941054d444a8200595040b8166e082a62d1bff");
        var decoded = new byte[HpackHuffman.MaxDecodedLength(coded.Length)];
        Assert.Equal(0, SteadyAllocation.LeastBytesPerRun(() => HpackHuffman.Decode(coded, decoded)));
    }

    private static byte[] Decode(byte[] coded)
    {
        var decoded = new byte[HpackHuffman.MaxDecodedLength(coded.Length)];
        return decoded[..HpackHuffman.Decode(coded, decoded)];
    }

    private static int Run(string arguments, out string output)
    {
        using var process = Process.Start(new ProcessStartInfo(Python, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = process.StandardError.ReadToEndAsync();
        output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), $"{Python} {arguments} did not finish in a minute");
        if (process.ExitCode != 0) output += stderr.Result;
        return process.ExitCode;
    }
}
