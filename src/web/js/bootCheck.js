// A classic (non-module) script: if the console has not started after a while, the browser is probably too
// old for ES modules with import maps; say so instead of "loading" forever.
(function () {
  var supported = typeof HTMLScriptElement !== 'undefined' && HTMLScriptElement.supports && HTMLScriptElement.supports('importmap');
  setTimeout(function () {
    var boot = document.querySelector('#app > .boot');
    if (!boot) return;
    boot.textContent = supported
      ? '控制台加载失败，请检查网络后刷新页面。'
      : '当前浏览器版本过旧，无法打开哨兵控制台。请使用新版 Chrome、Edge、Safari 或 Firefox。';
  }, supported ? 15000 : 3000);
})();
