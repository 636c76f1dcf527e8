// TRS WCM pagination helper
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {
  if (_nPageCount == null || _nPageCount <= 1) { return; }
  var nCurrIndex = _nCurrIndex || 0;
  function pageUrl(i) { return i == 0 ? _sPageName + "." + _sPageExt : _sPageName + "_" + i + "." + _sPageExt; }
  document.write("共" + _nPageCount + "页&nbsp;");
  if (nCurrIndex == 0) { document.write("首页&nbsp;上一页&nbsp;"); }
  else {
    document.write("<a href=\"" + pageUrl(0) + "\">首页</a>&nbsp;");
    document.write("<a href=\"" + pageUrl(nCurrIndex - 1) + "\">上一页</a>&nbsp;");
  }
  if (nCurrIndex == _nPageCount - 1) { document.write("下一页&nbsp;尾页"); }
  else {
    document.write("<a href=\"" + pageUrl(nCurrIndex + 1) + "\">下一页</a>&nbsp;");
    document.write("<a href=\"" + pageUrl(_nPageCount - 1) + "\">尾页</a>");
  }
}
function addFavorite() { try { window.external.addFavorite(location.href, document.title); } catch (e) { alert("请使用Ctrl+D收藏本站"); } }
