using System.Globalization;
using Tessera.Cli.Common;

namespace Tessera.Cli.Bench;

/// <summary>
/// One --shape entry: NAME=D1xD2x...[:LO..HI]. Random data of that shape is generated for the input; LO..HI
/// (inclusive, integers) sets the range of integer inputs, e.g. token ids below a vocabulary size or a 1..1 mask.
/// </summary>
internal sealed record ShapeSpec(string Name, int[] Dims, long? Low, long? High)
{
    public static ShapeSpec Parse(string spec)
    {
        int eq = spec.IndexOf('=');
        if (eq <= 0 || eq == spec.Length - 1)
        {
            throw new CliException($"--shape '{spec}' must be NAME=D1xD2... (e.g. input=1x3x224x224)");
        }

        string name = spec[..eq];
        string rest = spec[(eq + 1)..];
        long? low = null, high = null;
        int colon = rest.LastIndexOf(':');
        if (colon >= 0)
        {
            (low, high) = ParseRange(spec, rest[(colon + 1)..]);
            rest = rest[..colon];
        }

        string[] parts = rest.Split('x');
        var dims = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]))
            {
                throw new CliException($"--shape '{spec}': '{parts[i]}' is not a dimension (a whole number 0 or more)");
            }
        }

        return new ShapeSpec(name, rest.Length == 0 ? [] : dims, low, high);
    }

    private static (long Low, long High) ParseRange(string spec, string range)
    {
        int dots = range.IndexOf("..", StringComparison.Ordinal);
        if (dots > 0
            && long.TryParse(range[..dots], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long low)
            && long.TryParse(range[(dots + 2)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long high))
        {
            return low <= high ? (low, high) : throw new CliException($"--shape '{spec}': the range {range} is empty");
        }

        throw new CliException($"--shape '{spec}': '{range}' must be a range LO..HI of integers (e.g. 0..999)");
    }
}
