/*
 * The application form's place: choosing a county lists only its streets, choosing a street
 * only its communities, at once. Without this script the form's "更新选项" button asks the
 * server for the same narrowed lists. The tree comes from the page (json_script "place-tree").
 */
(function () {
  "use strict";
  var box = document.querySelector("[data-places]");
  var data = document.getElementById("place-tree");
  if (!box || !data) return;
  var tree = JSON.parse(data.textContent);
  var county = document.getElementById(box.dataset.county);
  var street = document.getElementById(box.dataset.street);
  var community = document.getElementById(box.dataset.community);
  var status = box.querySelector("[data-places-status]");
  if (!county || !street || !community) return;

  // Rows are [id, name, parent id]: the options under `parent`, keeping the choice if it stays.
  function fill(select, rows, parent, prompt, promptFirst) {
    var kept = select.value;
    var count = 0;
    select.replaceChildren(new Option(parent ? prompt : promptFirst, ""));
    if (parent) {
      rows.forEach(function (row) {
        if (String(row[2]) !== parent) return;
        var option = new Option(row[1], String(row[0]));
        option.lang = "zh-Hans"; // a place name is data, whatever the page's language
        select.add(option);
        count += 1;
      });
    }
    select.value = kept;
    if (select.value !== kept) select.value = "";
    return count;
  }

  function say(template, count) {
    if (status) status.textContent = template.replace("%(n)s", String(count));
  }

  function fillCommunities(announce) {
    var n = fill(community, tree.communities, street.value,
      box.dataset.chooseCommunity, box.dataset.streetFirst);
    if (announce && street.value) say(box.dataset.communitiesListed, n);
  }

  function fillStreets(announce) {
    var n = fill(street, tree.streets, county.value,
      box.dataset.chooseStreet, box.dataset.countyFirst);
    if (announce && county.value) say(box.dataset.streetsListed, n);
    fillCommunities(false);
  }

  county.addEventListener("change", function () { fillStreets(true); });
  street.addEventListener("change", function () { fillCommunities(true); });
  fillStreets(false);
  var update = box.querySelector("[data-places-update]");
  if (update) update.remove(); // the lists follow the choices now
})();
