# The centre's desk: moderation before the agency, answer review, staff tools.
# String arguments are HTML-escaped by handlers.texts.

## Moderation (admin chat)

moderation-card-title = 🛂 <b>Новое обращение на проверке</b>: передайте его в ведомство или отклоните.
moderation-button-pass = Передать: { $agency }
moderation-button-topic = Сменить тему
moderation-button-agency = Другое ведомство
moderation-button-decline = Отклонить
moderation-choose-topic = Новая тема обращения № { $number } (после выбора оно будет передано в ведомство этой темы):
moderation-choose-agency = В какое ведомство передать обращение № { $number }? Сначала — обслуживающие его тему и муниципалитет.
moderation-choose-reason = Причина отказа по обращению № { $number } (её получит житель):
moderation-card-passed = <b>Передано в { $agency }</b> ({ $actor })
moderation-card-declined = <b>Отклонено</b>: { $reason } ({ $actor })
moderation-done-topic = Тема обращения № { $number } изменена, оно передано в { $agency }.
moderation-done-agency = Обращение № { $number } передано в { $agency }.
moderation-done-declined = Обращение № { $number } отклонено: { $reason }.
moderation-toast-passed = Передано в ведомство
moderation-toast-declined = Отклонено
moderation-refuse-done = Обращение № { $number } уже проверено: сейчас оно в статусе «{ $status }».
moderation-refuse-no-agency = Ни одно ведомство не обслуживает эту тему здесь: выберите ведомство кнопкой «Другое ведомство».
moderation-remind-half = ⏳ Обращение № { $number } ждёт проверки: прошла половина срока. Срок: { $deadline }.
moderation-remind-due = ⚠️ Срок проверки обращения № { $number } истёк ({ $deadline }). Передайте его в ведомство или отклоните.

## Moderation (resident)

moderation-notice-passed = Ваше обращение № { $number } проверено и передано в ведомство: { $agency }. Ведомство сообщит, что взяло его в работу, до { $first }, а ответит по существу до { $answer }.
moderation-notice-declined = Ваше обращение № { $number } не принято к рассмотрению. Причина: { $reason }.

desk-event-moderation = поступило на проверку в центр управления регионом
desk-event-declined = отклонено при проверке
desk-event-topic_changed = тема изменена при проверке
desk-event-moderation_half = напоминание о проверке: прошла половина срока
desk-event-moderation_due = напоминание о проверке: срок истёк

resident-submitted-moderation =
    Спасибо! Ваше обращение <b>№ { $number }</b> принято. Центр управления регионом проверит его и передаст в ответственное ведомство — мы сообщим, когда это случится. Ответ придёт сюда, в этот чат. Следить за статусом можно командой /my.
