using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Tessera.Serving.Metrics;

namespace Tessera.Tests.Serving;

public sealed class HistogramTests
{
    [Fact]
    public async Task EveryScrapeWhileObservationsLandHasCountEqualToTheInfBucket()
    {
        var histogram = new Histogram(Histogram.TimeBounds);
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            var random = new Random(w);
            while (!stop.IsCancellationRequested) histogram.Observe(random.NextDouble() * 0.01);
        })).ToArray();
        long before;
        try
        {
            while ((before = histogram.Count) == 0) await Task.Delay(1);
            for (int scrape = 0; scrape < 2000; scrape++)
            {
                var text = new StringBuilder();
                histogram.WriteTo(text, "t", "m=\"a\"");
                string s = text.ToString();
                long inf = long.Parse(Regex.Match(s, "t_bucket\\{m=\"a\",le=\"\\+Inf\"\\} (\\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
                long count = long.Parse(Regex.Match(s, "t_count\\{m=\"a\"\\} (\\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
                Assert.Equal(inf, count);
            }
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(writers);
        }

        Assert.True(histogram.Count > before, "no observation landed while the scrapes ran");
    }
}
