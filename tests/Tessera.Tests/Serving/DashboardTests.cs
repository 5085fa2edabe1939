using System.Globalization;
using Microsoft.Playwright;
using Tessera.Cluster.Deployments;
using Tessera.Tests.Cluster;
using static Microsoft.Playwright.Assertions;

namespace Tessera.Tests.Serving;

/// <summary>
/// The /dashboard page in a real browser (Debian's Chromium driven by Playwright) in front of a server on three
/// worker processes: it shows every worker and model with its placement, live request rates and latencies, a
/// worker going down, and the pipeline placed again without it. Screenshots are kept in
/// artifacts/test-results/dashboard.
/// </summary>
public sealed class DashboardTests
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly LocatorAssertionsToHaveTextOptions s_slow = new() { Timeout = 30_000 };

    [Fact]
    public async Task ShowsEveryWorkerAndModelWithItsPlacementAWorkerGoingDownAndThePipelinePlacedAgain()
    {
        Assert.True(File.Exists(Chromium), $"Debian's chromium is needed: run {TestPaths.PrepareCommand}");
        var model = ClusterServingTests.Model(95);
        // Elastic: a placement with a worker down for 2 s is made again over the workers still up.
        await using var s = await ClusterServer.StartAsync(3, ClusterFixture.FastOptions, DeploymentOptions.Elastic(TimeSpan.FromSeconds(2)),
            ("data", model, "{\"strategy\": \"data\", \"workers\": [0, 1]}"),
            ("pipe", model, "{\"strategy\": \"pipeline\", \"workers\": [0, 1, 2]}"));
        var x = ClusterFixture.Random([3, 16], 96);
        string shots = Path.Combine(TestPaths.RepositoryRoot, "artifacts", "test-results", "dashboard");
        Directory.CreateDirectory(shots);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 800 } });
        await page.GotoAsync(new Uri(s.Client.BaseAddress!, "/dashboard").ToString());

        foreach (var w in s.Workers) await Expect(page.Locator($"#workers tr[data-address='{w.Address}'] td.up")).ToHaveTextAsync("up", s_slow);
        var data = page.Locator("#models tr[data-model='data:1']");
        var pipe = page.Locator("#models tr[data-model='pipe:1']");
        await Expect(data.Locator("td").Nth(1).Locator("div")).ToHaveCountAsync(2); // two replicas
        await Expect(pipe.Locator("td").Nth(1).Locator("div")).ToHaveCountAsync(1); // one route ...
        await Expect(pipe.Locator(".stage")).ToHaveCountAsync(3);                   // ... of three stages

        // Requests while the page watches: a rate and latency percentiles appear.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double rate = 0;
        while (rate <= 0 && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            for (int i = 0; i < 3; i++) Assert.Equal(200, (await s.InferAsync("data", x)).Status);
            Assert.Equal(200, (await s.InferAsync("pipe", x)).Status);
            await Task.Delay(300);
            double.TryParse(await data.Locator("td").Nth(2).InnerTextAsync(), NumberStyles.Float, CultureInfo.InvariantCulture, out rate);
        }

        Assert.True(rate > 0, await page.InnerTextAsync("body"));
        Assert.Matches(@"^\d+\.\d\d$", await data.Locator("td").Nth(3).InnerTextAsync()); // p50 in ms
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "all-up.png"), FullPage = true });

        var killed = s.Workers[2];
        killed.Dispose();
        await Expect(page.Locator($"#workers tr[data-address='{killed.Address}'] td.down")).ToHaveTextAsync("down", s_slow);
        await Expect(page.Locator("#events")).ToContainTextAsync($"({killed.Address}) is down", new() { Timeout = 30_000 });
        foreach (var w in s.Workers.Take(2)) await Expect(page.Locator($"#workers tr[data-address='{w.Address}'] td.up")).ToHaveTextAsync("up");
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "worker-down.png"), FullPage = true });

        // Past the grace the pipeline is cut again over the two workers left, and the page says so.
        await Expect(page.Locator("#events")).ToContainTextAsync("pipe:1 replica 0 moved:", new() { Timeout = 30_000 });
        await Expect(pipe.Locator(".stage")).ToHaveCountAsync(2);
        await Expect(pipe.Locator(".stage.down")).ToHaveCountAsync(0);
        Assert.DoesNotContain(killed.Address, await pipe.InnerTextAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "re-placed.png"), FullPage = true });
    }

    [Fact]
    public async Task TheDashboardIsOneStaticPage()
    {
        await using var s = await ClusterServer.StartAsync(1, ("m", ClusterServingTests.Model(97), null));
        using var response = await s.Client.GetAsync("/dashboard");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        string html = await response.Content.ReadAsStringAsync();
        Assert.Contains("fetch(\"/metrics\"", html);
        string metrics = await s.Client.GetStringAsync("/metrics");
        Assert.Contains($"tessera_route_stage{{model=\"m\",version=\"1\",replica=\"0\",stage=\"0\",rank=\"0\",", metrics);
    }
}
