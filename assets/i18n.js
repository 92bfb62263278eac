// The page's own words in its language (components/i18n.py). The page carries its
// scripts' part of the catalogue (#page-i18n, English -> this language); the English
// is the key and what is shown when a word is missing. ``words`` only marks English
// that is translated later, where it is shown (lists made when the scripts load).
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.i18n = { language: null, words: null };

window.VoiceChat.catalogue = function catalogue() {
  const i18n = window.VoiceChat.i18n;
  if (i18n.words) return i18n.words;
  const node = document.getElementById("page-i18n");
  if (!node) return {}; // the page is not drawn yet: English
  i18n.language = node.dataset.lang || "en";
  try {
    i18n.words = JSON.parse(node.dataset.words || "{}");
  } catch (error) {
    console.warn("the page's translations could not be read; English is shown", error);
    i18n.words = {};
  }
  document.documentElement.lang = i18n.language;
  return i18n.words;
};

window.VoiceChat.t = function t(english, values) {
  const words = window.VoiceChat.catalogue()[english] || english;
  if (!values) return words;
  return words.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
};

window.VoiceChat.words = function words(english) {
  return english;
};

// The language picked in the header (a native select): kept for a year (the server
// reads the cookie, components/i18n.py) and the page drawn again in it, without a
// ?lang= that would win.
window.VoiceChat.pickLanguage = function pickLanguage(language) {
  window.VoiceChat.catalogue(); // (which language the page was drawn in)
  if (!language || language === window.VoiceChat.i18n.language) return;
  document.cookie = `voicechat_lang=${encodeURIComponent(language)}; path=/; max-age=31536000; SameSite=Lax`;
  const url = new URL(window.location.href);
  url.searchParams.delete("lang");
  window.location.replace(url.toString());
};

document.addEventListener("change", (event) => {
  if (event.target && event.target.id === "page-language") window.VoiceChat.pickLanguage(event.target.value);
});

window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.page = Object.assign(window.dash_clientside.page || {}, {
  // Called once the page is drawn: its language read, <html lang> set.
  drawnIn: function drawnIn() {
    window.VoiceChat.catalogue();
    return window.dash_clientside.no_update;
  },
});
