// Light or dark, as the system asks: Ant Design's components through the theme provider
// (components/theme.py), the page's own colours through assets/app.css's media query.
window.dash_clientside = window.dash_clientside || {};

window.VoiceChat = window.VoiceChat || {};
window.VoiceChat.colourScheme = function colourScheme() {
  const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  return dark ? "dark" : "default";
};

window.dash_clientside.theme = {
  // At load, and whenever the system switches between light and dark.
  follow() {
    if (!window.VoiceChat.followsScheme && window.matchMedia) {
      window.VoiceChat.followsScheme = true;
      window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
        window.dash_clientside.set_props("theme", { algorithm: window.VoiceChat.colourScheme() });
      });
    }
    const scheme = window.VoiceChat.colourScheme();
    // The page is rendered light: only dark changes anything (re-rendering every component
    // under the provider for nothing would cost the page's load time).
    return scheme === "default" ? window.dash_clientside.no_update : scheme;
  },
};
