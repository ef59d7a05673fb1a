# The terminal console (`appeals console`): the resident's side and, with --staff, the agency chats.

console-staff-hello = Режим сотрудника: сообщения чатов ведомств показаны здесь же, со строкой «──». Кнопки сотрудника — s1, s2…; «s ТЕКСТ» — ответ сотрудника на последнее обращение (на карточку или на просьбу ввести ответ).
console-staff-chat = ── { $chat } · сообщение { $id } ──
console-staff-edited = ── { $chat } · сообщение { $id } изменено ──
console-staff-name = Сотрудник (консоль)
console-staff-no-button = Нет кнопки сотрудника { $label }.
console-staff-nothing-to-answer = Пока нет обращения, на которое можно ответить: сначала подайте его как житель.
console-admin-chat = Дежурный чат ЦУР
console-resident-says = ── Житель ──
console-resumed = С возвращением! Вы остановились здесь:
