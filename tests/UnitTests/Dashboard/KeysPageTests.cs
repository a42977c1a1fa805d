extern alias dashboard;
using System.Net;
using System.Text;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FluentUI.AspNetCore.Components;
using AdminApiClient = dashboard::AspireLlm.Dashboard.Web.Api.AdminApiClient;
using KeysPage = dashboard::AspireLlm.Dashboard.Web.Components.Pages.Keys;

namespace AspireLlm.UnitTests.Dashboard;

/// <summary>
/// The dashboard's key list: revoking asks to confirm (a Fluent UI dialog), and is not offered where it
/// would lock operators out; what the Api said comes back as a toast. The page is rendered with Fluent
/// UI's providers beside it, as the layout renders them.
/// </summary>
public sealed class KeysPageTests : IDisposable
{
    private static readonly Guid Bootstrap = Guid.Parse("00000000-0000-0000-0000-000000000001");
    private static readonly Guid Operator = Guid.Parse("00000000-0000-0000-0000-000000000002");
    private static readonly Guid Tenant = Guid.Parse("00000000-0000-0000-0000-000000000003");

    private readonly BunitContext _context = new();
    private readonly FakeApi _api = new();

    public KeysPageTests()
    {
        _context.Services.AddFluentUIComponents();
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _context.Services.AddSingleton(new AdminApiClient(new HttpClient(_api) { BaseAddress = new Uri("http://api.test") }));
    }

    public void Dispose() => _context.Dispose();

    [Fact(Timeout = 30_000)]
    public async Task Revoking_a_key_takes_a_confirmation_and_can_be_called_off()
    {
        _api.Keys = [Key(Bootstrap, admin: true, bootstrap: true), Key(Tenant, admin: false)];
        var page = RenderPage();

        // The click's handler waits for the dialog's answer: it finishes only once the dialog closes.
        var calledOff = page.Find("fluent-button.revoke").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Contains("Its clients stop working at once", page.Find("fluent-dialog").TextContent));
        Assert.Empty(_api.Revoked);
        await page.Find("fluent-dialog fluent-button.cancel-revoke").ClickAsync(new());
        await calledOff;
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("fluent-dialog")));
        Assert.Empty(_api.Revoked);

        var confirmed = page.Find("fluent-button.revoke").ClickAsync(new());
        page.WaitForAssertion(() => page.Find("fluent-dialog fluent-button.confirm-revoke"));
        await page.Find("fluent-dialog fluent-button.confirm-revoke").ClickAsync(new());
        await confirmed;

        Assert.Equal([Tenant], _api.Revoked);
        page.WaitForAssertion(() => Assert.Contains("revoked", page.Find(".toast").TextContent));
    }

    [Fact]
    public void Neither_the_bootstrap_key_nor_the_last_active_admin_key_can_be_revoked_from_the_page()
    {
        _api.Keys = [Key(Bootstrap, admin: true, bootstrap: true, revoked: true), Key(Operator, admin: true), Key(Tenant, admin: false)];
        var lastAdmin = RenderPage();
        Assert.Single(lastAdmin.FindAll("fluent-button.revoke")); // the tenant key's
        Assert.Contains("last admin key", lastAdmin.Markup);

        _api.Keys = [Key(Bootstrap, admin: true, bootstrap: true), Key(Operator, admin: true)];
        var twoAdmins = RenderPage();
        Assert.Single(twoAdmins.FindAll("fluent-button.revoke")); // the operator's, not the bootstrap key's
        Assert.Contains("rotate the admin-key parameter", twoAdmins.Markup);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_apis_reason_for_refusing_is_shown()
    {
        _api.Keys = [Key(Bootstrap, admin: true, bootstrap: true), Key(Tenant, admin: false)];
        _api.Refusal = "Key is the configured bootstrap key.";
        var page = RenderPage();

        var revoking = page.Find("fluent-button.revoke").ClickAsync(new());
        page.WaitForAssertion(() => page.Find("fluent-dialog fluent-button.confirm-revoke"));
        await page.Find("fluent-dialog fluent-button.confirm-revoke").ClickAsync(new());
        await revoking;

        page.WaitForAssertion(() => Assert.Contains("revoke refused (409): Key is the configured bootstrap key.", page.Find(".toast.error").TextContent));
    }

    /// <summary>The page with Fluent UI's dialog and toast providers, as the layout renders them.</summary>
    private IRenderedComponent<IComponent> RenderPage() => _context.Render(builder =>
    {
        builder.OpenComponent<FluentProviders>(0);
        builder.CloseComponent();
        builder.OpenComponent<KeysPage>(1);
        builder.CloseComponent();
    });

    private static string Key(Guid id, bool admin, bool bootstrap = false, bool revoked = false) =>
        $$"""{"id":"{{id}}","tenant_id":"t","name":"k{{id.ToString()[^1]}}","prefix":"sk-llm-{{id.ToString()[^4..]}}","is_admin":{{Json(admin)}},"revoked":{{Json(revoked)}},"limits":{},"is_bootstrap":{{Json(bootstrap)}}}""";

    private static string Json(bool value) => value ? "true" : "false";

    /// <summary>The Api's admin key endpoints, as far as the page uses them.</summary>
    private sealed class FakeApi : HttpMessageHandler
    {
        public List<string> Keys { get; set; } = [];

        public List<Guid> Revoked { get; } = [];

        public string? Refusal { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (request.Method == HttpMethod.Get && path == "/v1/admin/keys")
            {
                return Task.FromResult(Answer(HttpStatusCode.OK, "[" + string.Join(",", Keys) + "]", "application/json"));
            }

            if (request.Method == HttpMethod.Post && path.EndsWith("/revoke", StringComparison.Ordinal))
            {
                if (Refusal is not null)
                {
                    return Task.FromResult(Answer(HttpStatusCode.Conflict, $$"""{"status":409,"detail":"{{Refusal}}"}""", "application/problem+json"));
                }

                Revoked.Add(Guid.Parse(path.Split('/')[^2]));
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NoContent));
            }

            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound));
        }

        private static HttpResponseMessage Answer(HttpStatusCode status, string body, string mediaType) =>
            new(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) };
    }
}
