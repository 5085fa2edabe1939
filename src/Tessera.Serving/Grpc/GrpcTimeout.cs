using System.Globalization;

namespace Tessera.Serving.Grpc;

/// <summary>The grpc-timeout header (gRPC over HTTP/2: 1 to 8 digits and a unit, H M S m u n) as a call deadline.</summary>
internal static class GrpcTimeout
{
    /// <summary>The deadline the header sets from <paramref name="now"/>, or <see cref="DateTime.MaxValue"/> for none; a malformed value is ignored, as Grpc.AspNetCore ignores it.</summary>
    public static DateTime Deadline(string? header, DateTime now)
    {
        if (header is not { Length: >= 2 and <= 9 } || !long.TryParse(header.AsSpan(0, header.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long value))
        {
            return DateTime.MaxValue;
        }

        double ticks = header[^1] switch
        {
            'H' => value * (double)TimeSpan.TicksPerHour,
            'M' => value * (double)TimeSpan.TicksPerMinute,
            'S' => value * (double)TimeSpan.TicksPerSecond,
            'm' => value * (double)TimeSpan.TicksPerMillisecond,
            'u' => value * (double)TimeSpan.TicksPerMicrosecond,
            'n' => Math.Ceiling(value / 100.0),
            _ => -1,
        };
        return ticks < 0 || ticks >= (DateTime.MaxValue - now).Ticks ? DateTime.MaxValue : now.AddTicks((long)ticks);
    }
}
