using Drawbridge.Authorization;
using Drawbridge.Server.Identity;
using Microsoft.AspNetCore.Antiforgery;

namespace Drawbridge.Server.Web.Shared;

/// <summary>
/// Who is looking at a page and what they may do: pages show only the links and buttons the caller's roles allow.
/// Hiding a button is a courtesy; every action is authorized again by the handler it posts to, as for the API.
/// Public, with internal members, because Razor components are public classes and their parameters must be too.
/// </summary>
public sealed class Viewer
{
    private readonly Permissions permissions;
    private readonly CallerPermissions caller;
    private readonly AntiforgeryTokenSet tokens;
    private readonly string principal;
    private readonly string path;

    internal Viewer(string principal, Permissions permissions, CallerPermissions caller, AntiforgeryTokenSet tokens, string path)
    {
        (this.principal, this.permissions, this.caller, this.tokens, this.path) = (principal, permissions, caller, tokens, path);
    }

    public string Principal => principal;

    internal CallerPermissions Caller => caller;

    /// <summary>The request path, to mark the current page in the navigation.</summary>
    public string Path => path;

    public string AntiforgeryField => tokens.FormFieldName;

    public string AntiforgeryToken => tokens.RequestToken!;

    public bool Can(string action, AccessScope scope) => permissions.Allows(action, scope);

    /// <summary>True when the caller holds the action at some scope of the installation (a page worth linking to).</summary>
    public bool CanAnywhere(string action) => permissions.AllowsWithin(action, caller.Subscription);

    public bool CanReadAudit => Can(Actions.AuditRead, caller.Subscription);

    internal static async Task<Viewer> LoadAsync(HttpContext http, CancellationToken ct)
    {
        var caller = http.RequestServices.GetRequiredService<CallerPermissions>();
        var tokens = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        return new Viewer(caller.Principal, await caller.GetAsync(ct), caller, tokens, http.Request.Path.Value ?? "/");
    }
}
