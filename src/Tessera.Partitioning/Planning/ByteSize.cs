using System.Globalization;

namespace Tessera.Partitioning.Planning;

/// <summary>Byte counts for people: MB (10^6) with one decimal below 100 MB.</summary>
public static class ByteSize
{
    public static string Format(long bytes)
    {
        double mb = bytes / 1e6;
        return mb >= 100 ? string.Create(CultureInfo.InvariantCulture, $"{mb:F0} MB") : string.Create(CultureInfo.InvariantCulture, $"{mb:F1} MB");
    }
}
