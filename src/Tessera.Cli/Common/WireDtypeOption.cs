using System.CommandLine;
using Tessera.Cluster.Transport;

namespace Tessera.Cli.Common;

/// <summary>`--wire-dtype` of every command whose requests cross processes: how their float32 tensors travel.</summary>
internal sealed class WireDtypeOption
{
    public WireDtypeOption()
    {
        Option = new("--wire-dtype")
        {
            Description = $"with workers: how float32 tensors travel between processes ({WireDataTypeNames.Names}); float16/bfloat16 halve the bytes and round each value once per hop (docs/protocol.md)",
            DefaultValueFactory = _ => "float32",
        };
    }

    public Option<string> Option { get; }

    /// <summary>The wire data type given; a one-line error for another name.</summary>
    public WireDataType Read(ParseResult parse)
    {
        try
        {
            return WireDataTypeNames.Parse(parse.GetValue(Option)!);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"--wire-dtype: {e.Message}");
        }
    }
}
