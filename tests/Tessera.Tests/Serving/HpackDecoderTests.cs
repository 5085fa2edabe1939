using Tessera.Serving.Http2;

namespace Tessera.Tests.Serving;

/// <summary>
/// The gRPC port's HPACK decoder on the RFC's own examples (RFC 7541 Appendix C): request blocks that fill and use
/// the dynamic table, plain (C.3) and Huffman-coded (C.4), responses that evict from a 256-octet table (C.6); and
/// blocks that are not HPACK.
/// </summary>
public sealed class HpackDecoderTests
{
    private static readonly string[][] Requests =
    [
        [":method GET", ":scheme http", ":path /", ":authority www.example.com"],
        [":method GET", ":scheme http", ":path /", ":authority www.example.com", "cache-control no-cache"],
        [":method GET", ":scheme https", ":path /index.html", ":authority www.example.com", "custom-key custom-value"],
    ];

    [Theory]
    [InlineData("828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865", "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565")] // C.3
    [InlineData("828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf", "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf")] // C.4
    public void RequestsSharingTheDynamicTableDecode(string first, string second, string third)
    {
        var decoder = new HpackDecoder(4096);
        string[] blocks = [first, second, third];
        for (int i = 0; i < blocks.Length; i++)
        {
            Assert.Equal(Requests[i], Decode(decoder, blocks[i]));
        }
    }

    [Fact]
    public void ResponsesEvictFromASmallTable()
    {
        // C.6: a 256-octet table; the second block indexes what the first added, the third evicts it.
        var decoder = new HpackDecoder(4096);
        Assert.Equal([":status 302", "cache-control private", "date Mon, 21 Oct 2013 20:13:21 GMT", "location https://www.example.com"],
            Decode(decoder, "3fe101" + "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3"));
        Assert.Equal([":status 307", "cache-control private", "date Mon, 21 Oct 2013 20:13:21 GMT", "location https://www.example.com"],
            Decode(decoder, "4883640effc1c0bf"));
        Assert.Equal([":status 200", "cache-control private", "date Mon, 21 Oct 2013 20:13:22 GMT", "location https://www.example.com", "content-encoding gzip",
            "set-cookie foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"],
            Decode(decoder, "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"));
        Assert.Throws<HpackException>(() => Decode(decoder, "c1")); // 62..64 hold C.6.3's entries; the first response's were evicted
    }

    [Theory]
    [InlineData("ff7f", "past the end of the dynamic table")] // an index beyond both tables
    [InlineData("80", "indexed field 0")]
    [InlineData("3fe21f", "over the 4096 announced")] // a table size of 4097
    [InlineData("82" + "20", "after a field")] // a size update after a field
    [InlineData("0085ffffffff", "runs past the end")] // a name longer than the block
    [InlineData("0084fffffffc" + "00", "EOS inside")] // Huffman-coded EOS
    [InlineData("ffffffffff0f", "over 2^28")]
    public void MalformedBlocksAreHpackExceptions(string block, string message)
    {
        var error = Assert.Throws<HpackException>(() => Decode(new HpackDecoder(4096), block));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FieldsOverTheListLimitAreLeftOutAndTheTableStillFills()
    {
        var decoder = new HpackDecoder(4096);
        var fields = new List<KeyValuePair<string, string>>();
        // :method GET (42 octets as the limit counts) and custom-key: custom-value (54), with a 60-octet limit: the
        // second is left out of the list but still added to the table, and indexed by the next block.
        Assert.False(decoder.Decode(Convert.FromHexString("82400a637573746f6d2d6b65790c637573746f6d2d76616c7565"), fields, 60));
        Assert.Equal(":method", Assert.Single(fields).Key);
        Assert.DoesNotContain(fields, f => f.Key == "custom-key");
        fields.Clear();
        Assert.True(decoder.Decode(Convert.FromHexString("be"), fields, 4096));
        Assert.Equal("custom-key", Assert.Single(fields).Key);
    }

    private static string[] Decode(HpackDecoder decoder, string hex)
    {
        var fields = new List<KeyValuePair<string, string>>();
        Assert.True(decoder.Decode(Convert.FromHexString(hex), fields, 1 << 20));
        return [.. fields.Select(f => $"{f.Key} {f.Value}")];
    }
}
